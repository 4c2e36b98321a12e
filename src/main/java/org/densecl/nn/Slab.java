package org.densecl.nn;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Plan;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Allocates a {@link Plan} with a backend and also keeps flat views of the whole slab, so that a set of
 * gradients is zeroed with a handful of backend calls instead of one per tensor. The padding between
 * views is zero already and stays zero, so zeroing it too is harmless.
 */
final class Slab {
    /** Flat views are at most this many elements: shapes are ints, slabs may be larger. */
    private static final long CHUNK = 1L << 28;

    private final List<Tensor> chunks; // each (len), together covering the slab

    private Slab(List<Tensor> chunks) {
        this.chunks = chunks;
    }

    /** Allocates {@code plan} (every entry of dtype {@code dtype}) and remembers the slab. */
    static Slab allocate(Plan plan, Backend be, DType dtype) {
        MemorySegment[] slab = new MemorySegment[1];
        long bytes = Math.max(plan.byteSize(), Plan.ALIGN);
        plan.allocate(n -> slab[0] = be.allocateBytes(n), be.isHost());
        long elements = bytes / dtype.bytes(); // ALIGN is a multiple of every element size
        List<Tensor> chunks = new ArrayList<>();
        for (long start = 0; start < elements; start += CHUNK) {
            int len = (int) Math.min(CHUNK, elements - start);
            long off = start * dtype.bytes();
            long len8 = (long) len * dtype.bytes();
            chunks.add(be.isHost()
                    ? Tensor.wrap(dtype, Shape.of(len), slab[0].asSlice(off, len8))
                    : Tensor.device(dtype, Shape.of(len), MemorySegment.ofAddress(slab[0].address() + off)));
        }
        return new Slab(List.copyOf(chunks));
    }

    /** Zeroes every byte of the slab. */
    void zero(Backend be) {
        for (Tensor t : chunks) {
            be.zero(t);
        }
    }
}
