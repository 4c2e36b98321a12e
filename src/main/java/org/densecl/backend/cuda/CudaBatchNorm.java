package org.densecl.backend.cuda;

import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Batch norm, on our kernels by default or on cuDNN's legacy routines ({@code bn=cudnn}). Both follow the
 * Backend contract: batch mean and biased variance for the normalisation, running statistics blended with
 * momentum using the UNBIASED variance, saved mean and 1 / sqrt(var + eps); an (M, C) tensor is seen as
 * (M, 1, 1, C).
 *
 * <p>Why our kernels by default: they fuse what cuDNN's legacy API cannot for f32. The ReLU and the
 * residual join (y = max(BN(x) + r, 0)) happen in the pass that writes y, and the backward masks dy by
 * y > 0 while it reads it; with cuDNN each of those is one more pass over the activation (a ReLU or add-ReLU
 * kernel after the forward, a masked copy of dy before the backward). cuDNN's semantics match the contract
 * too (PyTorch itself calls these routines: exponentialAverageFactor = momentum, unbiased running variance,
 * saved inverse deviation), so it stays as an option to measure against; its fused graph-API engines are the
 * next step, not this one. cuDNN training uses CUDNN_BATCHNORM_SPATIAL_PERSISTENT, the NHWC fast path
 * PyTorch picks for channels_last.
 */
final class CudaBatchNorm {
    private final CudaKernels kernels;
    private final long stream;
    private final Cudnn cudnn;             // null: our kernels only
    private final CudaElementwise elementwise;
    private final Workspace scratch;       // kernels: (2, G, C) + (2, C) doubles; cuDNN: ReLU-masked dy (M, C)

    CudaBatchNorm(CudaKernels kernels, long stream, Cudnn cudnnOrNull, CudaElementwise elementwise,
                  Workspace scratch) {
        this.kernels = kernels;
        this.stream = stream;
        this.cudnn = cudnnOrNull;
        this.elementwise = elementwise;
        this.scratch = scratch;
    }

    void trainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps, Tensor runningMean,
                      Tensor runningVar, Tensor saveMean, Tensor saveInvStd, Tensor residual, Tensor y, boolean relu) {
        String op = residual == null ? "batchNormTrainForward" : "batchNormTrainForwardAddRelu";
        TensorDims d = dims(op, x);
        perChannel(op, d, "gamma", gamma, "beta", beta, "runningMean", runningMean, "runningVar", runningVar);
        perChannel(op, d, "saveMean", saveMean, "saveInvStd", saveInvStd);
        Check.same(op, "y", y, "x", x);
        Check.that(d.n() > 1, op, "x has shape " + x.shape() + ": one value per channel; training-mode batch norm"
                + " needs more than one");
        if (residual != null) {
            Check.same(op, "residual", residual, "x", x);
        }
        long xp = CudaArgs.f32Address(op, "x", x), yp = CudaArgs.f32Address(op, "y", y);
        long mean = CudaArgs.f32Address(op, "saveMean", saveMean), inv = CudaArgs.f32Address(op, "saveInvStd",
                saveInvStd);
        long res = residual == null ? 0 : CudaArgs.f32Address(op, "residual", residual);
        if (cudnn == null) {
            long ws = scratch.reserve(CudaKernels.columnWorkspaceBytes(d.n(), d.c())).address();
            kernels.batchNormStats(stream, xp, d.n(), d.c(), momentum, eps, CudaArgs.f32Address(op, "runningMean",
                    runningMean), CudaArgs.f32Address(op, "runningVar", runningVar), mean, inv, ws);
            kernels.batchNormApply(stream, xp, d.n(), d.c(), mean, inv, CudaArgs.f32Address(op, "gamma", gamma),
                    CudaArgs.f32Address(op, "beta", beta), res, yp, relu);
            return;
        }
        cudnn.batchNormForwardTraining(Cudnn.CUDNN_BATCHNORM_SPATIAL_PERSISTENT, d, x.data(), y.data(),
                CudaArgs.f32(op, "gamma", gamma), CudaArgs.f32(op, "beta", beta), momentum,
                CudaArgs.f32(op, "runningMean", runningMean), CudaArgs.f32(op, "runningVar", runningVar), eps,
                saveMean.data(), saveInvStd.data());
        if (residual != null) {
            elementwise.addRelu(y, residual, y);
        } else if (relu) {
            elementwise.reluForward(y, y);
        }
    }

    void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps,
                          Tensor y, boolean relu) {
        String op = "batchNormInferenceForward";
        TensorDims d = dims(op, x);
        perChannel(op, d, "gamma", gamma, "beta", beta, "runningMean", runningMean, "runningVar", runningVar);
        Check.same(op, "y", y, "x", x);
        // One elementwise pass with the running statistics: our kernel, whichever engine trains.
        kernels.batchNormInference(stream, CudaArgs.f32Address(op, "x", x), d.n(), d.c(),
                CudaArgs.f32Address(op, "gamma", gamma), CudaArgs.f32Address(op, "beta", beta),
                CudaArgs.f32Address(op, "runningMean", runningMean), CudaArgs.f32Address(op, "runningVar", runningVar),
                eps, CudaArgs.f32Address(op, "y", y), relu);
    }

    /**
     * cuDNN's backward takes an eps the contract does not give; it uses the saved inverse deviation when one
     * is passed, so eps only has to be valid (>= CUDNN_BN_MIN_EPSILON): 1e-5, the models' value.
     */
    void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor y, boolean relu,
                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        String op = "batchNormBackward";
        TensorDims d = dims(op, x);
        perChannel(op, d, "gamma", gamma, "dgamma", dgamma, "dbeta", dbeta, "saveMean", saveMean);
        perChannel(op, d, "saveInvStd", saveInvStd);
        Check.same(op, "dy", dy, "x", x);
        Check.same(op, "dx", dx, "x", x);
        if (relu) {
            Check.that(y != null, op, "relu is set, so y (the post-ReLU output) is required");
            Check.same(op, "y", y, "x", x);
        }
        long xp = CudaArgs.f32Address(op, "x", x), dyp = CudaArgs.f32Address(op, "dy", dy);
        long dxp = CudaArgs.f32Address(op, "dx", dx);
        if (cudnn == null) {
            long ws = scratch.reserve(CudaKernels.columnWorkspaceBytes(d.n(), d.c())).address();
            kernels.batchNormBackward(stream, xp, dyp, relu ? CudaArgs.f32Address(op, "y", y) : 0, d.n(), d.c(),
                    CudaArgs.f32Address(op, "gamma", gamma), CudaArgs.f32Address(op, "saveMean", saveMean),
                    CudaArgs.f32Address(op, "saveInvStd", saveInvStd), relu, dxp, accumulate,
                    CudaArgs.f32Address(op, "dgamma", dgamma), CudaArgs.f32Address(op, "dbeta", dbeta), ws);
            return;
        }
        Tensor grad = dy;
        if (relu) {
            grad = Tensor.device(dy.dtype(), dy.shape(), scratch.reserve(dy.byteSize()));
            elementwise.reluBackward(y, dy, grad, false);
        }
        cudnn.batchNormBackward(Cudnn.CUDNN_BATCHNORM_SPATIAL_PERSISTENT, d, x.data(), grad.data(),
                accumulate ? 1f : 0f, dx.data(), CudaArgs.f32(op, "gamma", gamma), CudaArgs.f32(op, "dgamma", dgamma),
                CudaArgs.f32(op, "dbeta", dbeta), 1e-5, saveMean.data(), saveInvStd.data());
    }

    /** x as (M, 1, 1, C), C its last dimension. */
    private static TensorDims dims(String op, Tensor x) {
        long[] mc = CudaElementwise.rowsAndChannels(op, x);
        Check.that(mc[0] <= Integer.MAX_VALUE, op, "x has " + mc[0] + " rows; cuDNN takes at most 2^31-1");
        return TensorDims.rows((int) mc[0], (int) mc[1]);
    }

    /** Each (name, tensor) pair must be a (C) vector. */
    private static void perChannel(String op, TensorDims d, Object... namesAndTensors) {
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            Check.shape(op, (String) namesAndTensors[i], (Tensor) namesAndTensors[i + 1], Shape.of(d.c()));
        }
    }
}
