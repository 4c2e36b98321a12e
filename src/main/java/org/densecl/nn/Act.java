package org.densecl.nn;

import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A handle to one named activation of an {@link Activations} plan: a value, its gradient, or both,
 * depending on how it was declared. Tensors exist once the plan is allocated; before that (or when the
 * requested half was never declared) the accessors throw with the activation's name.
 */
public final class Act {
    private final String name;
    private final Shape shape;
    private final boolean hasValue;
    private final boolean hasGrad;
    private boolean gradAssigned; // see Activations#assignsGrad
    private Tensor value; // shape
    private Tensor grad;  // shape

    Act(String name, Shape shape, boolean hasValue, boolean hasGrad) {
        this.name = name;
        this.shape = shape;
        this.hasValue = hasValue;
        this.hasGrad = hasGrad;
    }

    public String name() {
        return name;
    }

    public Shape shape() {
        return shape;
    }

    /** True if this activation stores a forward value. */
    public boolean hasValue() {
        return hasValue;
    }

    /** True if this activation has a gradient. */
    public boolean hasGrad() {
        return hasGrad;
    }

    /** The forward value. */
    public Tensor value() {
        if (!hasValue) {
            throw new IllegalStateException("activation '" + name + "' " + shape + " holds only a gradient");
        }
        if (value == null) {
            throw new IllegalStateException("activation '" + name + "' " + shape + " used before allocation");
        }
        return value;
    }

    /**
     * True if the first writer of this gradient in every backward pass assigns it whole, so that
     * {@link Activations#zeroGrads()} leaves it alone (see {@link Activations#assignsGrad}).
     */
    public boolean gradAssigned() {
        return gradAssigned;
    }

    void markGradAssigned() {
        gradAssigned = true;
    }

    /**
     * The gradient w.r.t. this activation: zeroed once per step by {@link Activations#zeroGrads()}, or,
     * if {@link #gradAssigned()}, set by its first writer.
     */
    public Tensor grad() {
        if (!hasGrad) {
            throw new IllegalStateException("activation '" + name + "' " + shape + " has no gradient"
                    + " (saved statistics, or a plan built for inference only)");
        }
        if (grad == null) {
            throw new IllegalStateException("gradient of activation '" + name + "' " + shape
                    + " used before allocation");
        }
        return grad;
    }

    void bind(Tensor value, Tensor grad) {
        this.value = value;
        this.grad = grad;
    }

    @Override
    public String toString() {
        return name + " " + shape;
    }
}
