package org.densecl.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A typed, shaped view of memory: a dtype, a shape and a segment holding exactly
 * {@code numel * dtype.bytes()} bytes, densely packed in row-major order. A tensor owns nothing;
 * the memory belongs to whoever allocated it (a backend, or a {@link Plan}'s slab). There is no math here.
 *
 * <p>The element accessors read host memory. Backends whose memory the host can touch (ref, cpu) use
 * them; layers never do, because on the CUDA backend the segment is a device address of length zero and
 * every access throws. Data crosses between host and device only through the backend's upload and
 * download methods.
 */
public final class Tensor {
    // Little-endian, unaligned-tolerant layouts: slabs are 64-byte aligned, but views may start anywhere.
    private static final ValueLayout.OfFloat F32 =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final Shape shape;
    private final MemorySegment data;
    private final boolean host;

    private Tensor(DType dtype, Shape shape, MemorySegment data, boolean host) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
        this.host = host;
    }

    /** A host tensor over {@code data}, which must hold exactly numel * dtype.bytes() bytes. */
    public static Tensor wrap(DType dtype, Shape shape, MemorySegment data) {
        long want = shape.numel() * dtype.bytes();
        if (data.byteSize() != want) {
            throw new IllegalArgumentException("Tensor.wrap: " + dtype + " " + shape + " needs " + want
                    + " bytes but the segment has " + data.byteSize());
        }
        return new Tensor(dtype, shape, data, true);
    }

    /**
     * A device tensor: {@code address} is a device pointer (a zero-length segment), so host reads throw.
     * Used by backends whose memory the host cannot touch.
     */
    public static Tensor device(DType dtype, Shape shape, MemorySegment address) {
        return new Tensor(dtype, shape, address, false);
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public long numel() {
        return shape.numel();
    }

    public long byteSize() {
        return numel() * dtype.bytes();
    }

    /** The memory: host memory of exactly byteSize() bytes, or a zero-length device address. */
    public MemorySegment data() {
        return data;
    }

    /** True if the host can read this tensor's memory directly. */
    public boolean isHost() {
        return host;
    }

    /** The same memory seen with another shape of the same element count (a free reshape). */
    public Tensor view(Shape newShape) {
        if (newShape.numel() != shape.numel()) {
            throw new IllegalArgumentException("Tensor.view: cannot view " + shape + " as " + newShape
                    + " (" + shape.numel() + " vs " + newShape.numel() + " elements)");
        }
        return new Tensor(dtype, newShape, data, host);
    }

    public Tensor view(int... dims) {
        return view(Shape.of(dims));
    }

    /**
     * A contiguous sub-range: elements [offset, offset + newShape.numel()) seen with {@code newShape}.
     * Batch slices of NHWC tensors are of this kind.
     */
    public Tensor slice(long offset, Shape newShape) {
        long n = newShape.numel();
        if (offset < 0 || offset + n > numel()) {
            throw new IllegalArgumentException("Tensor.slice: elements [" + offset + ", " + (offset + n)
                    + ") out of range for " + shape);
        }
        long b = (long) dtype.bytes();
        MemorySegment sub = host ? data.asSlice(offset * b, n * b)
                : MemorySegment.ofAddress(data.address() + offset * b);
        return new Tensor(dtype, newShape, sub, host);
    }

    // ---- host element access (ref/cpu backends and tests only) ----

    public float getFloat(long i) {
        return data.getAtIndex(F32, i);
    }

    public void setFloat(long i, float v) {
        data.setAtIndex(F32, i, v);
    }

    public int getInt(long i) {
        return data.getAtIndex(I32, i);
    }

    public void setInt(long i, int v) {
        data.setAtIndex(I32, i, v);
    }

    /** Element i as a double, whatever the dtype: the reference backend computes through this. */
    public double get(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case F64 -> data.getAtIndex(F64, i);
            case I32 -> data.getAtIndex(I32, i);
        };
    }

    /** Stores v at i, rounded to the dtype (to nearest for F32, towards zero for I32). */
    public void set(long i, double v) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32, i, (float) v);
            case F64 -> data.setAtIndex(F64, i, v);
            case I32 -> data.setAtIndex(I32, i, (int) v);
        }
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype + (host ? "" : " (device)");
    }
}
