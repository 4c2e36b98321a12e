package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.densecl.DenseClModel;
import org.densecl.densecl.DenseClStepTest;
import org.densecl.model.ResNetStepParityTest;
import org.densecl.nn.Param;
import org.densecl.testing.TensorAssert;
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

    /**
     * bf16 whole steps can only be compared loosely: every convolution rounds its operands and result to
     * 2^-8 (the ops themselves are checked tightly in CudaOpsTest#bf16ConvolutionsRoundAsPseudoBf16Config),
     * 65536x the f32 rounding, and this step's BN backward (batch 2, 8 values per channel at C5) amplifies
     * differences ~2000x (ResNetStepParityTest), so gradients and logits move by O(1) of their scale even
     * against a host backend that rounds its convolutions the same way (f32 summation order puts a value on
     * the other side of a bf16 boundary now and then, and that cascades). What holds: the loss, a mean over the
     * batch after ~50 layers whose rounding errors have random signs, stays within 5% of f32's (sqrt(53) layers
     * x 2^-8 with room; measured 1.7% on the stand-ins), and every gradient is finite and not all zero.
     */
    @Test
    void resnet50StepBf16StaysNearCpu() throws Throwable {
        try (Backend cuda = open("bf16"); Backend cpu = Backends.open("cpu", 2, "vector")) {
            ResNetStepParityTest.Run a = new ResNetStepParityTest.Run(cpu), b = new ResNetStepParityTest.Run(cuda);
            float la = a.step(), lb = b.step();
            assertEquals(la, lb, 5e-2 * Math.abs(la), "ResNet-50/16 loss, cuda:bf16 vs cpu");
            int compared = 0;
            for (Param p : b.net().parameters().trainable()) {
                assertEquals(0, cuda.countNonFinite(p.grad()), "non-finite gradient of " + p.name());
                assertTrue(TensorAssert.maxAbs(TensorAssert.values(cuda, p.grad())) > 0, "zero gradient of " + p.name());
                compared++;
            }
            assertEquals(161, compared, "ResNet-50 with fc has 161 trainable tensors");
        }
    }

    /**
     * The first DenseCL step's losses in bf16 against cpu: InfoNCE divides cosine similarities by tau = 0.2,
     * so a relative error e in the embeddings (the bf16 noise of the ResNet above) moves each logit by up to
     * 2e / tau = 10e, and the loss with it; measured 4.5% (global) on the stand-ins. 10% relative, loose, as
     * any whole-step bf16 comparison on batches this small must be.
     */
    @Test
    void denseClFirstStepBf16StaysNearCpu() throws Throwable {
        try (Backend cuda = open("bf16"); Backend cpu = Backends.open("cpu", 2, "vector")) {
            DenseClModel.Losses la = DenseClStepTest.firstStep(cpu), lb = DenseClStepTest.firstStep(cuda);
            assertEquals(la.global(), lb.global(), 0.1 * Math.abs(la.global()), "DenseCL global loss, cuda:bf16 vs cpu");
            assertEquals(la.dense(), lb.dense(), 0.1 * Math.abs(la.dense()), "DenseCL dense loss, cuda:bf16 vs cpu");
        }
    }

    @Test
    void denseClStepsTf32StayCloseToCpu() throws Throwable {
        try (Backend cuda = open(""); Backend cpu = Backends.open("cpu", 2, "vector")) {
            DenseClStepTest.compareTwoSteps(cpu, cuda, "cuda (tf32) vs cpu", true, 2e-3, 2e-2);
        }
    }
}
