package org.densecl.backend.cuda;

/**
 * Every {@link CudaKernelsGpuTest} again with grid-stride launches capped at 2 blocks, so each element
 * loop takes several turns and the row and column kept by FOR_EACH_ROW_COL wrap (the test tensors are far
 * smaller than the default cap would need for that).
 */
class CudaKernelsGridStrideGpuTest extends CudaKernelsGpuTest {
    @Override
    GpuVsRef harness() {
        GpuTests.assumeDevice();
        return new GpuVsRef(CudaDriver.load(), 2);
    }
}
