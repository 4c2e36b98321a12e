package org.densecl.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Plan;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

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
 * <p>Gradients live in two slabs. Backward ops ACCUMULATE by default, so the trainer calls
 * {@link #zeroGrads()} once per step, before the loss writes its gradient, and it clears the first slab.
 * The second holds the gradients marked with {@link #assignsGrad}: their first writer in each backward
 * pass assigns them whole (a backward op called with accumulate = false), later ones add, so clearing
 * them would be a wasted pass over memory (for ResNet-50 at batch 8, most of the 700 MB of activation
 * gradients), and the first writer would read those zeros back.
 */
public final class Activations {
    private final DType dtype;
    private final boolean inference;
    private final Map<String, Act> acts = new LinkedHashMap<>();
    private Backend backend;
    private Slab gradSlab; // gradients zeroGrads() clears; the assigned ones are in a slab of their own

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

    /**
     * Marks {@code a}'s gradient as assigned: in every backward pass its first writer sets all of it
     * (accumulate = false) before anything reads it, so {@link #zeroGrads()} skips it. The layer that
     * calls this takes on that duty; a gradient left unwritten would keep the last step's values.
     */
    public void assignsGrad(Act a) {
        if (backend != null) {
            throw new IllegalStateException("Activations: assignsGrad('" + a.name() + "') after allocate()");
        }
        if (acts.get(a.name()) != a) {
            throw new IllegalArgumentException("Activations: '" + a.name() + "' is not declared in this plan");
        }
        if (a.hasGrad()) {
            a.markGradAssigned();
        }
    }

    /** The activations whose gradients {@link #zeroGrads()} leaves to their first writer, in declaration order. */
    public List<Act> assignedGradients() {
        List<Act> out = new ArrayList<>();
        for (Act a : acts.values()) {
            if (a.hasGrad() && a.gradAssigned()) {
                out.add(a);
            }
        }
        return out;
    }

    /** Allocates the three slabs (zero-filled) and binds every handle. */
    public void allocate(Backend be) {
        if (backend != null) {
            throw new IllegalStateException("Activations: allocate() called twice");
        }
        Plan values = new Plan(), grads = new Plan(), assigned = new Plan();
        for (Act a : acts.values()) {
            if (a.hasValue()) {
                values.add(a.name(), dtype, a.shape());
            }
            if (a.hasGrad()) {
                (a.gradAssigned() ? assigned : grads).add(a.name(), dtype, a.shape());
            }
        }
        Slab.allocate(values, be, dtype);
        gradSlab = Slab.allocate(grads, be, dtype);
        Slab.allocate(assigned, be, dtype);
        for (Act a : acts.values()) {
            Tensor grad = a.hasGrad() ? (a.gradAssigned() ? assigned : grads).get(a.name()) : null;
            a.bind(a.hasValue() ? values.get(a.name()) : null, grad);
        }
        backend = be;
    }

    /** Zeroes every activation gradient but the assigned ones (once per step). */
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
