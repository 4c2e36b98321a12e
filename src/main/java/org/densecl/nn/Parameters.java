package org.densecl.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Plan;
import org.densecl.tensor.Shape;

/**
 * The named parameters and buffers of a model, with their gradients: llm.c's ParameterTensors, planned
 * once and carved out of two slabs (values, gradients) by {@link Plan}.
 *
 * <p>Life cycle: layers declare entries while the model is built ({@link #weight}, {@link #norm},
 * {@link #buffer}, {@link #counter}); then {@link #allocate} makes the slabs and binds every handle. Names
 * are torchvision state-dict keys and the declaration order is torchvision's {@code state_dict()} order,
 * which {@link #keys()} reproduces.
 *
 * <p>Declaring after allocation BINDS instead: a name that exists with the same shape and role returns the
 * existing handle, and anything else throws. This is how a second model instance built for another input
 * size (evaluation at full resolution, say) shares the weights of the first.
 *
 * <p>Parameter counts are known before allocation, so a ResNet-50 can be counted without its 100 MB.
 */
public final class Parameters {
    private final DType dtype;
    private final Map<String, Object> entries = new LinkedHashMap<>(); // Param or BatchCounter, in order
    private final List<Param> params = new ArrayList<>();
    private final List<Param> trainable = new ArrayList<>();
    private final List<BatchCounter> counters = new ArrayList<>();
    private Backend backend;
    private Slab gradSlab;

    /** @param dtype F32 for training; F64 (reference backend only) for finite-difference checks */
    public Parameters(DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F64) {
            throw new IllegalArgumentException("Parameters: dtype must be F32 or F64, not " + dtype);
        }
        this.dtype = dtype;
    }

    public DType dtype() {
        return dtype;
    }

    /** A conv or linear weight (trainable, decayed). */
    public Param weight(String name, Shape shape) {
        return declare(name, shape, Param.Role.WEIGHT);
    }

    /** A conv or linear bias (trainable). */
    public Param bias(String name, Shape shape) {
        return declare(name, shape, Param.Role.BIAS);
    }

    /** A normalisation gamma or beta (trainable). */
    public Param norm(String name, Shape shape) {
        return declare(name, shape, Param.Role.NORM);
    }

    /** A non-trainable buffer (running statistics). */
    public Param buffer(String name, Shape shape) {
        return declare(name, shape, Param.Role.BUFFER);
    }

    /** A host-side counter kept under a state-dict key ({@code num_batches_tracked}; see BatchCounter). */
    public BatchCounter counter(String name) {
        Object old = entries.get(name);
        if (backend != null) {
            if (old instanceof BatchCounter c) {
                return c;
            }
            throw new IllegalStateException("Parameters: '" + name + "' is not a counter of the allocated"
                    + " registry, so a model sharing it cannot bind it");
        }
        requireNew(name);
        BatchCounter c = new BatchCounter(name);
        entries.put(name, c);
        counters.add(c);
        return c;
    }

    private Param declare(String name, Shape shape, Param.Role role) {
        Object old = entries.get(name);
        if (backend != null) {
            if (old instanceof Param p && p.shape().equals(shape) && p.role() == role) {
                return p;
            }
            throw new IllegalStateException("Parameters: cannot bind '" + name + "' " + shape + " " + role
                    + " to the allocated registry, which has " + (old == null ? "no such entry" : old));
        }
        requireNew(name);
        Param p = new Param(name, shape, role);
        entries.put(name, p);
        params.add(p);
        if (role.trainable()) {
            trainable.add(p);
        }
        return p;
    }

    private void requireNew(String name) {
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("Parameters: duplicate name '" + name + "'");
        }
    }

    /**
     * Allocates the value slab (parameters and buffers, in declaration order) and the gradient slab
     * (trainable entries), zero-filled, and binds every handle.
     */
    public void allocate(Backend be) {
        if (backend != null) {
            throw new IllegalStateException("Parameters: allocate() called twice");
        }
        Plan values = new Plan(), grads = new Plan();
        for (Param p : params) {
            values.add(p.name(), dtype, p.shape());
            if (p.trainable()) {
                grads.add(p.name(), dtype, p.shape());
            }
        }
        Slab.allocate(values, be, dtype);
        gradSlab = Slab.allocate(grads, be, dtype);
        for (Param p : params) {
            p.bind(values.get(p.name()), p.trainable() ? grads.get(p.name()) : null);
        }
        backend = be;
    }

    public boolean allocated() {
        return backend != null;
    }

    /** Zeroes every gradient: once per training step, because backward passes accumulate. */
    public void zeroGrads() {
        if (backend == null) {
            throw new IllegalStateException("Parameters: zeroGrads() before allocate()");
        }
        gradSlab.zero(backend);
    }

    /** Every parameter and buffer, in declaration order (counters excluded). */
    public List<Param> all() {
        return Collections.unmodifiableList(params);
    }

    /** The trainable parameters, in declaration order: what an optimiser steps. */
    public List<Param> trainable() {
        return Collections.unmodifiableList(trainable);
    }

    public List<BatchCounter> counters() {
        return Collections.unmodifiableList(counters);
    }

    /** Every state-dict key (parameters, buffers, counters) in torchvision's order. */
    public List<String> keys() {
        return List.copyOf(entries.keySet());
    }

    /** The entry named {@code name}; throws listing nothing but the name if absent. */
    public Param get(String name) {
        if (entries.get(name) instanceof Param p) {
            return p;
        }
        throw new IllegalArgumentException("Parameters: no parameter or buffer named '" + name + "'");
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** Elements of the trainable parameters: what torchvision's {@code sum(p.numel() for p in parameters())} gives. */
    public long trainableCount() {
        long n = 0;
        for (Param p : trainable) {
            n += p.numel();
        }
        return n;
    }

    /** Elements of the floating-point buffers (running statistics). */
    public long bufferCount() {
        long n = 0;
        for (Param p : params) {
            n += p.trainable() ? 0 : p.numel();
        }
        return n;
    }
}
