package org.densecl.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Plan;
import org.densecl.tensor.Shape;

/**
 * Every intermediate tensor of a model for one (batch, input size): llm.c's ActivationTensors. Layers
 * declare what they write while the model is built; {@link #allocate} then makes two slabs, values and
 * gradients, so a training step allocates nothing. Sizes are fixed here, explicitly, never lazily at the
 * first forward.
 *
 * <p>Three kinds of declaration: {@link #act} (a value and its gradient: a layer output that backward
 * propagates through), {@link #saved} (a value only: BN's batch mean and 1/std), {@link #gradOnly} (a
 * gradient only: the gradient of a residual sum that is never stored). A plan made with
 * {@code inference = true} declares no gradients at all, which halves the memory of evaluation.
 *
 * <p>All gradients live in one slab and {@link #zeroGrads()} clears it: the trainer calls it once per
 * step before the loss writes its gradient, because every backward ACCUMULATES.
 */
public final class Activations {
    private final DType dtype;
    private final boolean inference;
    private final Map<String, Act> acts = new LinkedHashMap<>();
    private Backend backend;
    private Slab gradSlab;

    /**
     * @param dtype     F32, or F64 for finite-difference checks on the reference backend
     * @param inference true for a forward-only plan: no gradients are allocated
     */
    public Activations(DType dtype, boolean inference) {
        if (dtype != DType.F32 && dtype != DType.F64) {
            throw new IllegalArgumentException("Activations: dtype must be F32 or F64, not " + dtype);
        }
        this.dtype = dtype;
        this.inference = inference;
    }

    public Activations(DType dtype) {
        this(dtype, false);
    }

    public DType dtype() {
        return dtype;
    }

    public boolean inference() {
        return inference;
    }

    /** A value with a gradient (no gradient in an inference plan). */
    public Act act(String name, Shape shape) {
        return declare(name, shape, true, !inference);
    }

    /** A value without gradient: statistics saved by forward for backward. */
    public Act saved(String name, Shape shape) {
        return declare(name, shape, true, false);
    }

    /** A gradient without a stored value (nothing at all in an inference plan). */
    public Act gradOnly(String name, Shape shape) {
        return declare(name, shape, false, !inference);
    }

    private Act declare(String name, Shape shape, boolean value, boolean grad) {
        if (backend != null) {
            throw new IllegalStateException("Activations: cannot declare '" + name + "' after allocate()");
        }
        if (acts.containsKey(name)) {
            throw new IllegalArgumentException("Activations: duplicate name '" + name + "'");
        }
        Act a = new Act(name, shape, value, grad);
        acts.put(name, a);
        return a;
    }

    /** Allocates both slabs (zero-filled) and binds every handle. */
    public void allocate(Backend be) {
        if (backend != null) {
            throw new IllegalStateException("Activations: allocate() called twice");
        }
        Plan values = new Plan(), grads = new Plan();
        for (Act a : acts.values()) {
            if (a.hasValue()) {
                values.add(a.name(), dtype, a.shape());
            }
            if (a.hasGrad()) {
                grads.add(a.name(), dtype, a.shape());
            }
        }
        Slab.allocate(values, be, dtype);
        gradSlab = Slab.allocate(grads, be, dtype);
        for (Act a : acts.values()) {
            a.bind(a.hasValue() ? values.get(a.name()) : null, a.hasGrad() ? grads.get(a.name()) : null);
        }
        backend = be;
    }

    /** Zeroes every activation gradient (once per step). */
    public void zeroGrads() {
        if (backend == null) {
            throw new IllegalStateException("Activations: zeroGrads() before allocate()");
        }
        gradSlab.zero(backend);
    }

    /** Bytes of all values and gradients (before 64-byte alignment padding; known before allocation). */
    public long byteSize() {
        long n = 0;
        for (Act a : acts.values()) {
            n += a.shape().numel() * dtype.bytes() * ((a.hasValue() ? 1 : 0) + (a.hasGrad() ? 1 : 0));
        }
        return n;
    }

    public Act get(String name) {
        Act a = acts.get(name);
        if (a == null) {
            throw new IllegalArgumentException("Activations: no activation named '" + name + "'");
        }
        return a;
    }
}
