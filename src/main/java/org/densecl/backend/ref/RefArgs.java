package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * Argument checks the reference backend adds on top of {@link Check}: it computes through
 * {@link Tensor#get}/{@link Tensor#set}, so it needs host tensors of a floating type (F32 or F64),
 * and I32 for labels. Shape checks themselves stay in {@link Check} so every backend words them alike.
 */
final class RefArgs {
    private RefArgs() {}

    /** {@code t} must be a host F32 or F64 tensor. */
    static void floats(String op, String arg, Tensor t) {
        Check.that(t != null, op, arg + " is null");
        Check.that(t.isHost(), op, arg + " " + t + " is not host memory; the ref backend reads it directly");
        Check.that(t.dtype() == DType.F32 || t.dtype() == DType.F64, op,
                arg + " " + t.shape() + " is " + t.dtype() + " but F32 or F64 is required");
    }

    /** {@code t} must be a host I32 tensor (class labels). */
    static void ints(String op, String arg, Tensor t) {
        Check.that(t != null, op, arg + " is null");
        Check.that(t.isHost(), op, arg + " " + t + " is not host memory; the ref backend reads it directly");
        Check.dtype(op, arg, t, DType.I32);
    }

    /**
     * Per-channel ops see any tensor whose last dimension is C as (M, C); returns M after checking
     * that {@code x} has rank >= 1 and last dimension {@code c}.
     */
    static long rowsOf(String op, String arg, Tensor x, int c) {
        Check.that(x.shape().rank() >= 1 && x.shape().last() == c, op,
                arg + " has shape " + x.shape() + " but its last dimension must be the channel count " + c);
        return x.numel() / Math.max(c, 1);
    }
}
