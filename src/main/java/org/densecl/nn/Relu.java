package org.densecl.nn;

import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A standalone ReLU, where it cannot be fused into a batch norm (after a residual sum, whose forward
 * {@link BatchNorm2d#forwardAddRelu} does; its backward is here). It saves nothing: backward masks by
 * the output, which is positive exactly where the input was.
 */
public final class Relu {
    private final Backend be;
    private final String name;
    private final Shape shape; // any, typically (N, H, W, C)

    public Relu(Backend be, String name, Shape shape) {
        this.be = be;
        this.name = name;
        this.shape = shape;
    }

    /** y = max(x, 0); y may alias x (in place). */
    public void forward(Tensor x, Tensor y) {
        Check.shape(name, "x", x, shape);
        be.reluForward(x, y);
    }

    /** dx += dy where y > 0. */
    public void backward(Tensor y, Tensor dy, Tensor dx) {
        backward(y, dy, dx, true);
    }

    /** {@link #backward(Tensor, Tensor, Tensor)}, with dx assigned (dy where y > 0, else 0) unless {@code accumulateDx}. */
    public void backward(Tensor y, Tensor dy, Tensor dx, boolean accumulateDx) {
        Check.shape(name, "dy", dy, shape);
        be.reluBackward(y, dy, dx, accumulateDx);
    }
}
