package org.densecl.nn;

import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * PyTorch's BatchNorm2d over NHWC activations (per channel, statistics over N, H, W), optionally with
 * the following ReLU fused in. Registers, in torchvision's order: {@code weight} (gamma), {@code bias}
 * (beta), {@code running_mean}, {@code running_var} (buffers) and {@code num_batches_tracked} (a host
 * counter, see {@link BatchCounter}). Saves the batch mean and 1/std as plan activations for backward.
 *
 * <p>Training mode normalises with batch statistics and updates the running ones; evaluation mode uses
 * the running ones. Only a training-mode forward can be followed by backward: the eval-mode gradient is
 * a different (affine) function, which nothing in this project trains through.
 */
public final class BatchNorm2d {
    private final Backend be;
    private final String name;
    private final Shape xShape; // (N, H, W, C)
    private final boolean relu;
    private final float momentum;
    private final float eps;
    private final Param gamma;        // (C)
    private final Param beta;         // (C)
    private final Param runningMean;  // (C) buffer
    private final Param runningVar;   // (C) buffer
    private final BatchCounter numBatchesTracked;
    private final Act mean;    // (C) batch mean, saved by a training forward
    private final Act invStd;  // (C) 1 / sqrt(batch var + eps)
    private boolean lastForwardTrained;

    /**
     * @param xShape   the input shape (N, H, W, C); y has the same shape
     * @param relu     fuse max(., 0) after the affine transform
     * @param momentum running = (1 - momentum) * running + momentum * batch (PyTorch: 0.1)
     * @param eps      added to the variance (PyTorch: 1e-5)
     */
    public BatchNorm2d(Backend be, Parameters params, Activations acts, String name, Shape xShape, boolean relu,
                       float momentum, float eps) {
        this.be = be;
        this.name = name;
        this.xShape = xShape;
        this.relu = relu;
        this.momentum = momentum;
        this.eps = eps;
        Shape c = Shape.of(xShape.last());
        gamma = params.norm(name + ".weight", c);
        beta = params.norm(name + ".bias", c);
        runningMean = params.buffer(name + ".running_mean", c);
        runningVar = params.buffer(name + ".running_var", c);
        numBatchesTracked = params.counter(name + ".num_batches_tracked");
        mean = acts.saved(name + ".mean", c);
        invStd = acts.saved(name + ".invStd", c);
    }

    public Param gamma() {
        return gamma;
    }

    public Param beta() {
        return beta;
    }

    public boolean fusedRelu() {
        return relu;
    }

    /** y = BN(x) (then ReLU if fused). x, y (N, H, W, C); y must not alias x. */
    public void forward(Tensor x, Tensor y, boolean training) {
        forward(x, null, y, training);
    }

    /**
     * A residual join: y = max(BN(x) + residual, 0), in one pass in training mode (the values of
     * {@link #forward} and then add and ReLU). Only for a BN without fused ReLU. y aliases neither x nor
     * residual.
     */
    public void forwardAddRelu(Tensor x, Tensor residual, Tensor y, boolean training) {
        Check.shape(name, "residual", residual, xShape);
        if (relu) {
            throw new IllegalStateException(name + ": forwardAddRelu on a BN with fused ReLU (the ReLU goes after"
                    + " the add)");
        }
        forward(x, residual, y, training);
    }

    // residual null: y = BN(x) (+ fused ReLU); else y = max(BN(x) + residual, 0).
    private void forward(Tensor x, Tensor residual, Tensor y, boolean training) {
        Check.shape(name, "x", x, xShape);
        Check.shape(name, "y", y, xShape);
        if (training) {
            if (residual == null) {
                be.batchNormTrainForward(x, gamma.value(), beta.value(), momentum, eps, runningMean.value(),
                        runningVar.value(), mean.value(), invStd.value(), y, relu);
            } else {
                be.batchNormTrainForwardAddRelu(x, gamma.value(), beta.value(), momentum, eps, runningMean.value(),
                        runningVar.value(), mean.value(), invStd.value(), residual, y);
            }
            numBatchesTracked.increment();
        } else {
            be.batchNormInferenceForward(x, gamma.value(), beta.value(), runningMean.value(),
                    runningVar.value(), eps, y, relu);
            if (residual != null) {
                be.addRelu(y, residual, y);
            }
        }
        lastForwardTrained = training;
    }

    /**
     * dx += ... ({@code accumulateDx}) or dx = ... (dx's old contents ignored), dgamma += ..., dbeta += ...
     * after a training-mode forward. x is the forward input, y the forward output (needed, and only read,
     * when the ReLU is fused: dy is then masked by y > 0).
     */
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulateDx) {
        if (!lastForwardTrained) {
            throw new IllegalStateException(name + ": backward after an evaluation-mode forward; batch norm"
                    + " trains only through training-mode forwards (batch statistics)");
        }
        be.batchNormBackward(x, dy, gamma.value(), mean.value(), invStd.value(), relu ? y : null, relu, dx,
                gamma.grad(), beta.grad(), accumulateDx);
    }

    /** gamma = {@code gammaValue} (1, or 0 for a zero-initialised residual branch), beta = 0, fresh stats. */
    public void initialize(Init init, float gammaValue) {
        init.constant(gamma, gammaValue);
        init.constant(beta, 0f);
        init.constant(runningMean, 0f);
        init.constant(runningVar, 1f);
        numBatchesTracked.set(0);
    }
}
