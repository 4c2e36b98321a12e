package org.densecl.backend.cuda;

import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Batch norm on cuDNN's legacy routines, whose semantics are the Backend contract's: batch mean and biased
 * variance for the normalisation, the running variance updated with the UNBIASED one, blended with
 * exponentialAverageFactor = momentum (PyTorch's rule; PyTorch itself calls these routines), and the saved
 * statistics are the mean and 1 / sqrt(var + eps). Training uses CUDNN_BATCHNORM_SPATIAL_PERSISTENT, cuDNN's
 * NHWC fast path (what PyTorch picks for channels_last); inference the plain spatial mode. An (M, C) tensor is
 * seen as (M, 1, 1, C), which reduces over the same elements.
 *
 * <p>ReLU is our kernels' work around cuDNN: forward, a ReLU in place on y (or the fused add-ReLU of a
 * residual join); backward, dy masked by y > 0 into a grow-once scratch that cuDNN then reads. cuDNN's own
 * fused BN-add-ReLU (graph API, or the Ex routines) is the next step, not this one.
 */
final class CudaBatchNorm {
    private final Cudnn cudnn;
    private final CudaElementwise elementwise;
    private final Workspace maskedDy; // (M, C) floats: dy * (y > 0) for the ReLU variants

    CudaBatchNorm(Cudnn cudnn, CudaElementwise elementwise, Workspace maskedDy) {
        this.cudnn = cudnn;
        this.elementwise = elementwise;
        this.maskedDy = maskedDy;
    }

    void trainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps, Tensor runningMean,
                      Tensor runningVar, Tensor saveMean, Tensor saveInvStd, Tensor y, boolean relu) {
        String op = "batchNormTrainForward";
        TensorDims d = dims(op, x);
        perChannel(op, d, "gamma", gamma, "beta", beta, "runningMean", runningMean, "runningVar", runningVar);
        perChannel(op, d, "saveMean", saveMean, "saveInvStd", saveInvStd);
        Check.same(op, "y", y, "x", x);
        Check.that(d.n() > 1, op, "x has shape " + x.shape() + ": one value per channel; training-mode batch norm"
                + " needs more than one");
        cudnn.batchNormForwardTraining(Cudnn.CUDNN_BATCHNORM_SPATIAL_PERSISTENT, d, CudaArgs.f32(op, "x", x),
                CudaArgs.f32(op, "y", y), CudaArgs.f32(op, "gamma", gamma), CudaArgs.f32(op, "beta", beta), momentum,
                CudaArgs.f32(op, "runningMean", runningMean), CudaArgs.f32(op, "runningVar", runningVar), eps,
                CudaArgs.f32(op, "saveMean", saveMean), CudaArgs.f32(op, "saveInvStd", saveInvStd));
        if (relu) {
            elementwise.reluForward(y, y);
        }
    }

    void trainForwardAddRelu(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps, Tensor runningMean,
                             Tensor runningVar, Tensor saveMean, Tensor saveInvStd, Tensor residual, Tensor y) {
        Check.same("batchNormTrainForwardAddRelu", "residual", residual, "x", x);
        trainForward(x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd, y, false);
        elementwise.addRelu(y, residual, y);
    }

    void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps,
                          Tensor y, boolean relu) {
        String op = "batchNormInferenceForward";
        TensorDims d = dims(op, x);
        perChannel(op, d, "gamma", gamma, "beta", beta, "runningMean", runningMean, "runningVar", runningVar);
        Check.same(op, "y", y, "x", x);
        cudnn.batchNormForwardInference(d, CudaArgs.f32(op, "x", x), CudaArgs.f32(op, "y", y),
                CudaArgs.f32(op, "gamma", gamma), CudaArgs.f32(op, "beta", beta),
                CudaArgs.f32(op, "runningMean", runningMean), CudaArgs.f32(op, "runningVar", runningVar), eps);
        if (relu) {
            elementwise.reluForward(y, y);
        }
    }

    /**
     * The contract gives no eps here: cuDNN uses the saved inverse deviation when it is passed, so the eps
     * argument only has to be valid (>= CUDNN_BN_MIN_EPSILON); 1e-5 is the models' value.
     */
    void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor y, boolean relu,
                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        String op = "batchNormBackward";
        TensorDims d = dims(op, x);
        perChannel(op, d, "gamma", gamma, "dgamma", dgamma, "dbeta", dbeta, "saveMean", saveMean);
        perChannel(op, d, "saveInvStd", saveInvStd);
        Check.same(op, "dy", dy, "x", x);
        Check.same(op, "dx", dx, "x", x);
        Tensor grad = dy;
        if (relu) {
            Check.that(y != null, op, "relu is set, so y (the post-ReLU output) is required");
            Check.same(op, "y", y, "x", x);
            grad = Tensor.device(dy.dtype(), dy.shape(), maskedDy.reserve(dy.byteSize()));
            elementwise.reluBackward(y, dy, grad, false);
        }
        cudnn.batchNormBackward(Cudnn.CUDNN_BATCHNORM_SPATIAL_PERSISTENT, d, CudaArgs.f32(op, "x", x),
                CudaArgs.f32(op, "dy", grad), accumulate ? 1f : 0f, CudaArgs.f32(op, "dx", dx),
                CudaArgs.f32(op, "gamma", gamma), CudaArgs.f32(op, "dgamma", dgamma), CudaArgs.f32(op, "dbeta", dbeta),
                1e-5, CudaArgs.f32(op, "saveMean", saveMean), CudaArgs.f32(op, "saveInvStd", saveInvStd));
    }

    /** x as cuDNN sees it, (M, 1, 1, C). */
    private static TensorDims dims(String op, Tensor x) {
        Check.that(x.shape().rank() >= 1 && x.shape().last() > 0, op, "x must end in a channel dimension, got "
                + x.shape());
        int c = x.shape().last();
        long m = x.numel() / c;
        Check.that(m <= Integer.MAX_VALUE, op, "x has " + m + " rows; cuDNN takes at most 2^31-1");
        return TensorDims.rows((int) m, c);
    }

    /** Each (name, tensor) pair must be a (C) vector. */
    private static void perChannel(String op, TensorDims d, Object... namesAndTensors) {
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            Check.shape(op, (String) namesAndTensors[i], (Tensor) namesAndTensors[i + 1], Shape.of(d.c()));
        }
    }
}
