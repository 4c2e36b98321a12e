package org.densecl.nn;

import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/** Max pooling over NHWC with a fixed geometry; backward recomputes the argmax from x, saving nothing. */
public final class MaxPool2d {
    private final Backend be;
    private final String name;
    private final PoolGeometry g;
    private final Shape xShape; // (N, H, W, C)
    private final Shape yShape; // (N, P, Q, C)

    public MaxPool2d(Backend be, String name, PoolGeometry g) {
        this.be = be;
        this.name = name;
        this.g = g;
        this.xShape = g.xShape();
        this.yShape = g.yShape();
    }

    public PoolGeometry geometry() {
        return g;
    }

    /** x (N, H, W, C), y (N, P, Q, C). */
    public void forward(Tensor x, Tensor y) {
        Check.shape(name, "x", x, xShape);
        Check.shape(name, "y", y, yShape);
        be.maxPoolForward(g, x, y);
    }

    /** dx += dy routed to each window's first maximum. */
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Check.shape(name, "dy", dy, yShape);
        be.maxPoolBackward(g, x, y, dy, dx);
    }
}
