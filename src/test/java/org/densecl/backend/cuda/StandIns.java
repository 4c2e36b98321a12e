package org.densecl.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The whole CUDA stack on the CPU, for the cuda backend's tests without a GPU: the stand-in libcuda linked with
 * the kernel emulator (our kernels run, block threads as OS threads), and stand-in cuBLAS and cuDNN whose
 * GEMMs, convolutions and batch norm compute what the libraries document (src/test/c). Built once per test
 * JVM with gcc and g++; skips, saying why, where they or the kernel fatbin (nvcc at build time) are missing.
 */
final class StandIns {
    /** Grid-stride launches capped at 2 blocks: the emulator runs every thread of a block as an OS thread. */
    static final int GRID_CAP = 2;

    private static StandIns built;

    final SymbolLookup cuda, cublas, cudnn;
    final CudaDriver driver;

    private StandIns(SymbolLookup cuda, SymbolLookup cublas, SymbolLookup cudnn) {
        this.cuda = cuda;
        this.cublas = cublas;
        this.cudnn = cudnn;
        this.driver = CudaDriver.bind(cuda);
    }

    static synchronized StandIns get() throws Throwable {
        if (built == null) {
            try {
                CudaKernels.fatbin();
            } catch (CudaUnavailableException e) {
                System.out.println("SKIPPED (stand-in libraries) " + e.getMessage());
                Assumptions.assumeTrue(false, e.getMessage());
            }
            String gcc = HostTools.require("/usr/bin/gcc").toString();
            String gxx = HostTools.require("/usr/bin/g++").toString();
            Path tmp = Files.createTempDirectory("densecl-standins");
            tmp.toFile().deleteOnExit();
            built = new StandIns(emulatedCuda(gcc, gxx, tmp),
                    compile(gcc, "fake_libcublas.c", tmp.resolve("libcublas.so.13")),
                    compile(gcc, "fake_libcudnn.c", tmp.resolve("libcudnn.so.9")));
        }
        return built;
    }

    /**
     * Starts (clearing it) or stops the stand-in libcuda's log of stream operations, one line each in the
     * order queued: {@code htod S}, {@code dtoh S}, {@code launch S NAME}, {@code record E S}, {@code wait S E},
     * {@code sync S}, ... with streams and events as hex handles (src/test/c/fake_libcuda.c).
     */
    void log(boolean on) throws Throwable {
        Linker.nativeLinker().downcallHandle(cuda.find("fake_set_log").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(on ? 1 : 0);
    }

    /** The log's lines since {@link #log(boolean) log(true)}. */
    List<String> logged() throws Throwable {
        MemorySegment text = (MemorySegment) Linker.nativeLinker().downcallHandle(cuda.find("fake_log").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
        String all = text.reinterpret(Long.MAX_VALUE).getString(0);
        return all.isEmpty() ? List.of() : List.of(all.split("\n"));
    }

    /** A backend with {@code options} on the stand-ins. */
    CudaBackend backend(String options) {
        return new CudaBackend(CudaContext.open(driver, 0), CudaOptions.parse(options), cublas, cudnn, GRID_CAP);
    }

    private static SymbolLookup compile(String gcc, String source, Path lib) throws Exception {
        HostTools.run(gcc, "-shared", "-fPIC", "-O1", "-o", lib.toString(), "src/test/c/" + source, "-lm");
        return SymbolLookup.libraryLookup(lib, Arena.global());
    }

    /** fake_libcuda.c linked with cuda_emulator.cpp (native/*.cu as C++), launches executed. */
    private static SymbolLookup emulatedCuda(String gcc, String gxx, Path tmp) throws Throwable {
        List<String> sources = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("native"))) {
            s.filter(p -> p.toString().endsWith(".cu")).sorted()
                    .forEach(p -> sources.add("#include \"" + p.toAbsolutePath() + "\""));
        }
        Files.write(tmp.resolve("kernel_sources.inc"), sources);
        List<String> table = new ArrayList<>();
        for (CudaKernel k : CudaKernel.values()) {
            table.add("K(" + k.symbol + ")");
        }
        Files.write(tmp.resolve("kernel_table.inc"), table);
        Path fake = tmp.resolve("fake.o"), emu = tmp.resolve("emu.o"), lib = tmp.resolve("libcuda.so.1");
        HostTools.run(gcc, "-c", "-fPIC", "-O1", "-o", fake.toString(), "src/test/c/fake_libcuda.c");
        HostTools.run(gxx, "-c", "-fPIC", "-O1", "-std=c++17", "-pthread", "-I" + tmp, "-Inative", "-o", emu.toString(),
                "src/test/c/cuda_emulator.cpp");
        HostTools.run(gxx, "-shared", "-pthread", "-o", lib.toString(), fake.toString(), emu.toString());
        SymbolLookup cuda = SymbolLookup.libraryLookup(lib, Arena.global());
        Linker.nativeLinker().downcallHandle(cuda.find("fake_set_execute").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(1);
        return cuda;
    }
}
