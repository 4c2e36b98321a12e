package org.densecl.backend.cuda;

import org.junit.jupiter.api.BeforeAll;

/**
 * Every {@link CudaKernelsGpuTest} on the CPU: the stand-in libcuda (src/test/c/fake_libcuda.c) linked
 * with the kernel emulator (src/test/c/cuda_emulator.cpp, which compiles native/*.cu as C++ and runs each
 * block's threads as OS threads), so the kernels' arithmetic, indexing, reductions and the Java launch
 * layer are checked against the ref backend on machines without a GPU. Grid-stride launches are capped
 * at 2 blocks so the loops take several turns. What it cannot show: timing, coalescing, real warp
 * scheduling, the GPU's FMA contraction. Skips, saying why, where gcc or g++ is absent.
 */
class CudaKernelsEmulatedTest extends CudaKernelsGpuTest {
    private static CudaDriver emulated;

    @BeforeAll
    static void buildEmulator() throws Throwable {
        emulated = StandIns.get().driver;
    }

    @Override
    GpuVsRef harness() {
        return new GpuVsRef(emulated, StandIns.GRID_CAP);
    }
}
