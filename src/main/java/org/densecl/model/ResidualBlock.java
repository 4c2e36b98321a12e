package org.densecl.model;

import java.util.List;
import org.densecl.nn.Act;
import org.densecl.nn.Conv2d;
import org.densecl.nn.FanMode;
import org.densecl.nn.Init;
import org.densecl.tensor.Tensor;

/**
 * One residual block of a ResNet stage. It owns its output activation and its internal ones; the input
 * belongs to whoever produced it (the previous block, or the stem). Backward reads the gradient that has
 * accumulated in {@link #output()}, adds into the block's parameter gradients, and writes dx. The block's
 * internal gradients are assigned by their first writer (see {@code Activations.assignsGrad}), so they
 * cost no zeroing.
 */
public sealed interface ResidualBlock permits BasicBlock, Bottleneck {

    /** The stride of the block's strided conv (and of its projection). */
    int stride();

    /** The dilation (and padding) of the block's dilated 3x3 conv. */
    int dilation();

    /** True if the shortcut is a projection (downsample.0 conv1x1 + downsample.1 BN). */
    boolean hasDownsample();

    /** The block's convolutions in torchvision's order (conv1, conv2[, conv3][, downsample.0]). */
    List<Conv2d> convs();

    /** The block's output, (N, P, Q, planes * expansion). */
    Act output();

    /** out = relu(branch(x) + shortcut(x)). x (N, H, W, Cin). */
    void forward(Tensor x, boolean training);

    /**
     * dx += ... ({@code accumulateDx}) or dx = ... (dx's old contents ignored), parameter gradients += ...,
     * from output().grad(). x is the forward input. dx is written by the shortcut first, then the branch
     * adds to it, so assigning costs nothing extra.
     */
    void backward(Tensor x, Tensor dx, boolean accumulateDx);

    /** Kaiming convs, BN gamma 1 beta 0, and gamma 0 on the last BN when {@code zeroInitResidual}. */
    void initialize(Init init, FanMode mode, boolean zeroInitResidual);
}
