package org.densecl.nn;

import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A 2-D convolution over NHWC activations with a KRSC filter, optionally with a bias. Registers
 * {@code <name>.weight} (K, R, S, C) and, with a bias, {@code <name>.bias} (K). The geometry (batch and
 * input size included) is fixed at construction; the caller owns x and y.
 */
public final class Conv2d {
    private final Backend be;
    private final String name;
    private final ConvGeometry g;
    private final Shape xShape; // (N, H, W, C), cached: a step allocates nothing, not even a Shape
    private final Shape yShape; // (N, P, Q, K)
    private final Param weight; // (K, R, S, C)
    private final Param bias;   // (K), or null

    public Conv2d(Backend be, Parameters params, String name, ConvGeometry g, boolean withBias) {
        this.be = be;
        this.name = name;
        this.g = g;
        this.xShape = g.xShape();
        this.yShape = g.yShape();
        this.weight = params.weight(name + ".weight", g.wShape());
        this.bias = withBias ? params.bias(name + ".bias", Shape.of(g.k())) : null;
    }

    public ConvGeometry geometry() {
        return g;
    }

    public Param weight() {
        return weight;
    }

    /** The bias, or null. */
    public Param bias() {
        return bias;
    }

    /** y = conv(x, w) (+ b). x (N, H, W, C), y (N, P, Q, K). */
    public void forward(Tensor x, Tensor y) {
        Check.shape(name, "x", x, xShape);
        Check.shape(name, "y", y, yShape);
        be.conv2dForward(g, x, weight.value(), bias == null ? null : bias.value(), y);
    }

    /**
     * dW += ..., db += ..., and dx += ... unless {@code dx} is null (an input that needs no gradient,
     * such as the image). x (N, H, W, C), dy (N, P, Q, K), dx (N, H, W, C).
     */
    public void backward(Tensor x, Tensor dy, Tensor dx) {
        backward(x, dy, dx, true);
    }

    /** {@link #backward(Tensor, Tensor, Tensor)}, with dx assigned (dx = ...) unless {@code accumulateDx}. */
    public void backward(Tensor x, Tensor dy, Tensor dx, boolean accumulateDx) {
        Check.shape(name, "dy", dy, yShape);
        be.conv2dBackwardFilter(g, x, dy, weight.grad(), bias == null ? null : bias.grad());
        if (dx != null) {
            be.conv2dBackwardData(g, dy, weight.value(), dx, accumulateDx);
        }
    }

    /** Kaiming normal with the ReLU gain for the weight, zero bias (mmcv's kaiming_init). */
    public void initialize(Init init, FanMode mode) {
        init.kaimingNormal(weight, mode);
        if (bias != null) {
            init.constant(bias, 0f);
        }
    }
}
