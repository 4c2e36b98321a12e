package org.densecl.tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;
import java.lang.foreign.MemorySegment;

/**
 * Sizes a set of named tensors once and carves them out of one slab (llm.c's
 * {@code malloc_and_point}). Add every (name, dtype, shape) first, then {@link #allocate}; a training
 * step then only uses views and allocates nothing.
 */
public final class Plan {
    /** Every view starts on a 64-byte boundary: a cache line, and enough for any SIMD load. */
    public static final long ALIGN = 64;

    private record Entry(DType dtype, Shape shape, long offset) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private long bytes;
    private Map<String, Tensor> views;

    /** Reserves a named tensor. Names are unique; the order of adds is the order in the slab. */
    public Plan add(String name, DType dtype, Shape shape) {
        if (views != null) {
            throw new IllegalStateException("Plan: cannot add '" + name + "' after allocate()");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("Plan: duplicate tensor name '" + name + "'");
        }
        entries.put(name, new Entry(dtype, shape, bytes));
        bytes += roundUp(shape.numel() * dtype.bytes());
        return this;
    }

    public Plan add(String name, Shape shape) {
        return add(name, DType.F32, shape);
    }

    /** Total slab size in bytes, padding included. */
    public long byteSize() {
        return bytes;
    }

    /**
     * Allocates the slab with {@code allocator} (bytes → 64-byte-aligned segment; a backend's
     * {@code allocateBytes}) and creates the views. Host and device backends both fit: a device
     * backend returns a zero-length segment carrying the device address.
     */
    public Plan allocate(LongFunction<MemorySegment> allocator, boolean host) {
        MemorySegment slab = allocator.apply(Math.max(bytes, ALIGN));
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : entries.entrySet()) {
            Entry en = e.getValue();
            long n = en.shape().numel() * en.dtype().bytes();
            Tensor t = host ? Tensor.wrap(en.dtype(), en.shape(), slab.asSlice(en.offset(), n))
                    : Tensor.device(en.dtype(), en.shape(), MemorySegment.ofAddress(slab.address() + en.offset()));
            out.put(e.getKey(), t);
        }
        views = out;
        return this;
    }

    /** The view named {@code name}; the plan must have been allocated. */
    public Tensor get(String name) {
        if (views == null) {
            throw new IllegalStateException("Plan: get('" + name + "') before allocate()");
        }
        Tensor t = views.get(name);
        if (t == null) {
            throw new IllegalArgumentException("Plan: no tensor named '" + name + "'");
        }
        return t;
    }

    private static long roundUp(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }
}
