package org.densecl.nn;

import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A fully connected layer y = x W^T + b with PyTorch's (out, in) weight layout. Registers
 * {@code <name>.weight} (O, I) and, with a bias, {@code <name>.bias} (O).
 */
public final class Linear {
    private final Backend be;
    private final String name;
    private final Shape xShape; // (N, I)
    private final Shape yShape; // (N, O)
    private final Param weight; // (O, I)
    private final Param bias;   // (O), or null

    public Linear(Backend be, Parameters params, String name, int batch, int in, int out, boolean withBias) {
        this.be = be;
        this.name = name;
        this.xShape = Shape.of(batch, in);
        this.yShape = Shape.of(batch, out);
        this.weight = params.weight(name + ".weight", Shape.of(out, in));
        this.bias = withBias ? params.bias(name + ".bias", Shape.of(out)) : null;
    }

    public Param weight() {
        return weight;
    }

    public Param bias() {
        return bias;
    }

    public Shape inputShape() {
        return xShape;
    }

    public Shape outputShape() {
        return yShape;
    }

    /** x (N, I), y (N, O). */
    public void forward(Tensor x, Tensor y) {
        Check.shape(name, "x", x, xShape);
        Check.shape(name, "y", y, yShape);
        be.linearForward(x, weight.value(), bias == null ? null : bias.value(), y);
    }

    /** dW += dy^T x, db += column sums of dy, dx += dy W unless dx is null. */
    public void backward(Tensor x, Tensor dy, Tensor dx) {
        Check.shape(name, "dy", dy, yShape);
        be.linearBackward(x, weight.value(), dy, dx, weight.grad(), bias == null ? null : bias.grad());
    }

    /**
     * PyTorch's default for nn.Linear (what torchvision's fc keeps): kaiming_uniform with a = sqrt(5),
     * which is U(-1/sqrt(in), 1/sqrt(in)), and the bias from the same bound.
     */
    public void initializeDefault(Init init) {
        double bound = 1 / Math.sqrt(weight.shape().dim(1));
        init.uniform(weight, bound);
        if (bias != null) {
            init.uniform(bias, bound);
        }
    }
}
