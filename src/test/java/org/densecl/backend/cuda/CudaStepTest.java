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
 * <p>Tolerances. cpu against ref differs by ~1e-7 per convolution output and BN backward's cancellation lifts
 * that to 2e-4 of a gradient tensor's largest value (ResNetStepParityTest), an amplification of ~2000. In
 * strict fp32 cuDNN may still choose FFT or Winograd algorithms, whose transforms err by ~1e-6 to 1e-5 of the
 * output scale, so gradients may differ by up to ~1e-2 of their scale: 2e-2 here (a wrong index or a missing
 * term is off by O(1) of it), the loss, logits and running statistics at 1e-3 relative; DenseCL's losses and parameters after two steps at 1e-3 + 1e-2 relative. TF32
 * rounds every convolution input to 2^-11, 100x the f32 rounding, which moves the DenseCL losses and
 * parameters by up to a few percent: 2e-3 + 2e-2 relative, loose, but a wrong op is off by O(1) there too.
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
            ResNetStepParityTest.compareOneStep(cpu, cuda, "cuda:fp32 vs cpu", 2e-2, 1e-3);
        }
    }

    @Test
    void denseClStepsStrictFp32MatchCpu() throws Throwable {
        try (Backend cuda = open("fp32"); Backend cpu = Backends.open("cpu", 2, "vector")) {
            DenseClStepTest.compareTwoSteps(cpu, cuda, "cuda:fp32 vs cpu", true, 1e-3, 1e-2);
        }
    }

    @Test
    void denseClStepsTf32StayCloseToCpu() throws Throwable {
        try (Backend cuda = open(""); Backend cpu = Backends.open("cpu", 2, "vector")) {
            DenseClStepTest.compareTwoSteps(cpu, cuda, "cuda (tf32) vs cpu", true, 2e-3, 2e-2);
        }
    }
}
