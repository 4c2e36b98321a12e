package org.densecl.backend.cuda;

/**
 * Every {@link CudaOpsTest} on the CPU: the cuda backend whole (bindings, descriptors, plans, workspaces,
 * transfers, kernel launches) on the stand-in libcuda with the kernel emulator and the stand-in cuBLAS and
 * cuDNN ({@link StandIns}). It shows that every op of the backend computes what ref does through every layer
 * of our code; what it cannot show is the real libraries' and the GPU's behaviour (their algorithms,
 * rounding, speed), which the GPU run checks.
 */
class CudaOpsEmulatedTest extends CudaOpsTest {
    @Override
    CudaBackend open(String options) throws Throwable {
        return StandIns.get().backend(options);
    }
}
