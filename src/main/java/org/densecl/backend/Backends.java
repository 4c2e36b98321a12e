package org.densecl.backend;

import java.util.List;
import org.densecl.backend.cpu.CpuTuning;

/**
 * Opens a backend by name. The choice is always explicit (config or --backend) and never falls back:
 * asking for a backend that cannot load is an error that says what was looked for.
 */
public final class Backends {
    private Backends() {}

    /** The names {@link #open} accepts ("cuda" also with options: "cuda:fp32", "cuda:tf32,bn=cudnn"; CudaOptions). */
    public static final List<String> NAMES = List.of("ref", "cpu", "cuda");

    /** True for a name {@link #open} accepts: one of {@link #NAMES}, or "cuda:" with a precision. */
    public static boolean known(String name) {
        return NAMES.contains(name) || name.startsWith("cuda:");
    }

    /**
     * @param name    "ref", "cpu", or "cuda" with optional options ("cuda:fp32"; see CudaOptions)
     * @param threads worker threads for the cpu backend (0 = all cores)
     * @param gemm    GEMM provider for the cpu backend: "vector" (pure Java, always there) or "openblas"
     */
    public static Backend open(String name, int threads, String gemm) {
        return open(name, threads, CpuTuning.DEFAULT.withGemm(gemm));
    }

    /** As {@link #open(String, int, String)}, with the cpu backend's provider and kernel variants in {@code tuning}. */
    public static Backend open(String name, int threads, CpuTuning tuning) {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return switch (name) {
            case "ref" -> new org.densecl.backend.ref.RefBackend();
            case "cpu" -> new org.densecl.backend.cpu.CpuBackend(t, tuning);
            default -> known(name)
                    ? org.densecl.backend.cuda.CudaBackend.open(0, org.densecl.backend.cuda.CudaOptions.parse(
                            name.equals("cuda") ? "" : name.substring("cuda:".length())))
                    : throwUnknown(name);
        };
    }

    private static Backend throwUnknown(String name) {
        throw new IllegalArgumentException("unknown backend '" + name + "'; choose one of " + NAMES);
    }
}
