package org.densecl.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@link CudaKernelsGpuTest} on the CPU: the stand-in libcuda (src/test/c/fake_libcuda.c) linked
 * with the kernel emulator (src/test/c/cuda_emulator.cpp, which compiles native/*.cu as C++ and runs each
 * block's threads as OS threads), so the kernels' arithmetic, indexing, reductions and the Java launch
 * layer are checked against the ref backend on machines without a GPU. Grid-stride launches are capped
 * at 2 blocks so the loops take several turns. What it cannot show: timing, coalescing, real warp
 * scheduling, the GPU's FMA contraction. Skips, saying why, where gcc or g++ is absent.
 */
class CudaKernelsEmulatedTest extends CudaKernelsGpuTest {
    @TempDir
    static Path tmp;

    private static CudaDriver emulated;

    @BeforeAll
    static void buildEmulator() throws Throwable {
        String gcc = HostTools.require("/usr/bin/gcc").toString(), gxx = HostTools.require("/usr/bin/g++").toString();
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
        Path fakeObj = tmp.resolve("fake.o"), emuObj = tmp.resolve("emu.o"), lib = tmp.resolve("libcuda.so.1");
        HostTools.run(gcc, "-c", "-fPIC", "-O1", "-o", fakeObj.toString(), "src/test/c/fake_libcuda.c");
        HostTools.run(gxx, "-c", "-fPIC", "-O1", "-std=c++17", "-pthread", "-I" + tmp, "-Inative", "-o",
                emuObj.toString(), "src/test/c/cuda_emulator.cpp");
        HostTools.run(gxx, "-shared", "-pthread", "-o", lib.toString(), fakeObj.toString(), emuObj.toString());
        SymbolLookup fake = SymbolLookup.libraryLookup(lib, Arena.global());
        Linker.nativeLinker().downcallHandle(fake.find("fake_set_execute").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(1);
        emulated = CudaDriver.bind(fake);
    }

    @Override
    GpuVsRef harness() {
        return new GpuVsRef(emulated, 2);
    }
}
