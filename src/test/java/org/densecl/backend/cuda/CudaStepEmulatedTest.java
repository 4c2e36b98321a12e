package org.densecl.backend.cuda;

import org.densecl.backend.Backend;

/**
 * Every {@link CudaStepTest} on the CPU stand-ins ({@link StandIns}): a ResNet-50 training step and two DenseCL
 * steps through the whole cuda backend (our kernels emulated, cuBLAS and cuDNN stood in for) against the cpu
 * backend. It proves the models drive the backend through device memory only (no host read of a device
 * tensor anywhere in a step) and that every op composes; the real libraries' rounding is the GPU run's.
 */
class CudaStepEmulatedTest extends CudaStepTest {
    @Override
    Backend open(String options) throws Throwable {
        return StandIns.get().backend(options);
    }
}
