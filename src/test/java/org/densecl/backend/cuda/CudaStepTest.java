package org.densecl.backend.cuda;

import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.densecl.DenseClStepTest;
import org.densecl.model.ResNetStepParityTest;
import org.junit.jupiter.api.Test;

/**
 * Whole training steps on the cuda backend against the cpu backend: the ResNet-50/16 step of
 * {@link ResNetStepParityTest} and the DenseCL steps of {@link DenseClStepTest}, everything they compare
 * (loss, every gradient, momentum buffers, updated weights, running statistics, queues). Skipped, with the
 * reason printed, when no CUDA device loads; {@link CudaStepEmulatedTest} runs the same steps on the CPU
 * stand-ins.
 *
 * <p>Strict fp32 uses the cpu-vs-ref tolerances widened 2.5x (gradients 5e-3 of each tensor's largest): cuDNN's
 * algorithms (FFT, Winograd) round differently from a direct sum, which BN backward's cancellation lifts as
 * it does for cpu against ref. TF32 rounds every convolution input to 2^-11; through ~50 layers and BN's
 * renormalisation that moves gradients by up to a few percent of their scale, so the TF32 step checks the
 * DenseCL losses and parameters at 2e-2 relative: loose, but a wrong op is off by O(1) there.
 */
class CudaStepTest {

    /** A cuda backend with {@code options} on device 0, or a skip saying why none loads (printed once). */
    Backend open(String options) throws Throwable {
        DeviceOnce.require();
        return Backends.open(options.isEmpty() ? "cuda" : "cuda:" + options, 0, "vector");
    }

    @Test
    void resnet50StepStrictFp32MatchesCpu() throws Throwable {
        try (Backend cuda = open("fp32"); Backend cpu = Backends.open("cpu", 2, "vector")) {
            ResNetStepParityTest.compareOneStep(cpu, cuda, "cuda:fp32 vs cpu", 5e-3, 1e-4);
        }
    }

    @Test
    void denseClStepsStrictFp32MatchCpu() throws Throwable {
        try (Backend cuda = open("fp32"); Backend cpu = Backends.open("cpu", 2, "vector")) {
            DenseClStepTest.compareTwoSteps(cpu, cuda, "cuda:fp32 vs cpu", true, 2.5e-4, 2.5e-3);
        }
    }

    @Test
    void denseClStepsTf32StayCloseToCpu() throws Throwable {
        try (Backend cuda = open(""); Backend cpu = Backends.open("cpu", 2, "vector")) {
            DenseClStepTest.compareTwoSteps(cpu, cuda, "cuda (tf32) vs cpu", true, 2e-3, 2e-2);
        }
    }
}
