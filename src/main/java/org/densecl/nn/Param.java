package org.densecl.nn;

import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A handle to one named entry of a {@link Parameters} registry: a trainable parameter (with a gradient
 * twin of the same shape) or a non-trainable buffer (BN running statistics). Layers keep the handle from
 * construction on; the tensors behind it exist once the registry is allocated, so {@link #value()} and
 * {@link #grad()} throw before that. The name is the torchvision state-dict key ("layer3.4.conv2.weight").
 */
public final class Param {

    /** What an entry is, which decides whether it trains and which optimiser group it falls in. */
    public enum Role {
        /** A conv or linear weight: trained, weight decay applies. */
        WEIGHT,
        /** A conv or linear bias: trained; optimisers may exempt it from weight decay. */
        BIAS,
        /** A BN gamma or beta: trained; optimisers may exempt it from weight decay. */
        NORM,
        /** Running statistics and other state: not trained, no gradient, saved in checkpoints. */
        BUFFER;

        public boolean trainable() {
            return this != BUFFER;
        }
    }

    private final String name;
    private final Shape shape;
    private final Role role;
    private Tensor value; // shape, set by Parameters.allocate
    private Tensor grad;  // shape, trainable entries only

    Param(String name, Shape shape, Role role) {
        this.name = name;
        this.shape = shape;
        this.role = role;
    }

    public String name() {
        return name;
    }

    public Shape shape() {
        return shape;
    }

    public Role role() {
        return role;
    }

    public boolean trainable() {
        return role.trainable();
    }

    public long numel() {
        return shape.numel();
    }

    /** The values. Throws before the registry is allocated. */
    public Tensor value() {
        if (value == null) {
            throw new IllegalStateException("parameter '" + name + "' " + shape
                    + " used before its Parameters registry was allocated");
        }
        return value;
    }

    /** The gradient (same shape). Throws for buffers and before allocation. */
    public Tensor grad() {
        if (!trainable()) {
            throw new IllegalStateException("'" + name + "' is a buffer (" + role + "); it has no gradient");
        }
        if (grad == null) {
            throw new IllegalStateException("gradient of '" + name + "' " + shape
                    + " used before its Parameters registry was allocated");
        }
        return grad;
    }

    void bind(Tensor value, Tensor grad) {
        this.value = value;
        this.grad = grad;
    }

    @Override
    public String toString() {
        return name + " " + shape + " " + role;
    }
}
