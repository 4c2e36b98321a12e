package org.densecl.nn;

import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/** Mean over H and W: (N, H, W, C) to (N, C), PyTorch's AdaptiveAvgPool2d(1) followed by flatten. */
public final class GlobalAvgPool {
    private final Backend be;
    private final String name;
    private final Shape xShape; // (N, H, W, C)
    private final Shape yShape; // (N, C)

    public GlobalAvgPool(Backend be, String name, Shape xShape) {
        this.be = be;
        this.name = name;
        this.xShape = xShape;
        this.yShape = Shape.of(xShape.dim(0), xShape.last());
    }

    public Shape outputShape() {
        return yShape;
    }

    public void forward(Tensor x, Tensor y) {
        Check.shape(name, "x", x, xShape);
        Check.shape(name, "y", y, yShape);
        be.globalAvgPoolForward(x, y);
    }

    /** dx += dy / (H * W), broadcast over H and W. */
    public void backward(Tensor dy, Tensor dx) {
        Check.shape(name, "dx", dx, xShape);
        be.globalAvgPoolBackward(dy, dx);
    }
}
