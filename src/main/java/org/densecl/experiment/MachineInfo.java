package org.densecl.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;

/**
 * The machine a report's times and numbers come from: CPU model, cores, SIMD floats per vector (the
 * summation order of the cpu backend, which a training outcome must not hinge on), threads, JDK.
 */
public record MachineInfo(String cpu, int cores, int vectorFloats, int threads, String backend, String jdk) {

    /** This machine as {@code be} uses it. */
    public static MachineInfo of(Backend be) {
        int floats = be instanceof CpuBackend c ? c.vectorFloats() : 1;
        int threads = be instanceof CpuBackend c ? c.threads() : 1;
        return new MachineInfo(cpuModel(), Runtime.getRuntime().availableProcessors(), floats, threads, be.name(),
                System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
    }

    /** One Markdown line. */
    public String line() {
        return String.format(Locale.ROOT, "%s, %d cores, %d floats per vector (%s backend, %d thread%s), JDK %s", cpu,
                cores, vectorFloats, backend, threads, threads == 1 ? "" : "s", jdk);
    }

    /**
     * The CPU as a benchmark's header names it: "AMD EPYC, AVX-512 (16 floats per vector), cpu kernels
     * use 8 floats, 2 cores". Every speed figure is tied to the ISA it was measured on.
     */
    public static String cpuLine() {
        int floats = CpuBackend.cpuVectorFloats();
        String isa = floats >= 16 ? "AVX-512" : floats == 8 ? "AVX2" : floats * 32 + "-bit vectors";
        String capped = floats < 16 && cpuFlags().contains(" avx512f ")
                ? " (the CPU has AVX-512; this JVM is held below it, e.g. by -XX:UseAVX=2)" : "";
        return String.format(Locale.ROOT, "%s, %s (%d floats per vector)%s, cpu kernels use %d floats, %d cores",
                cpuModel(), isa, floats, capped, CpuBackend.kernelVectorFloats(), Runtime.getRuntime().availableProcessors());
    }

    // The CPU's feature flags from /proc/cpuinfo, space-separated; empty where there is none.
    private static String cpuFlags() {
        return cpuInfo("flags").map(f -> " " + f + " ").orElse("");
    }

    private static String cpuModel() {
        return cpuInfo("model name").orElse(System.getProperty("os.arch")); // not Linux: the architecture has to do
    }

    // The first /proc/cpuinfo line for `key`, after its colon.
    private static Optional<String> cpuInfo(String key) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith(key)) {
                    return Optional.of(l.substring(l.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable
        }
        return Optional.empty();
    }
}
