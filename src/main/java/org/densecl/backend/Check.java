package org.densecl.backend;

import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Argument checks shared by every backend. Each failure names the op, the argument and both shapes,
 * so that a wrong wiring in a layer is found from the message alone.
 */
public final class Check {
    private Check() {}

    /** {@code t} must have exactly shape {@code want}. */
    public static void shape(String op, String arg, Tensor t, Shape want) {
        if (!t.shape().equals(want)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + t.shape() + " but " + want
                    + " is required");
        }
    }

    /** {@code t} must have the same element count as {@code want} (any shape with that many elements). */
    public static void numel(String op, String arg, Tensor t, long want) {
        if (t.numel() != want) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + t.shape() + " (" + t.numel()
                    + " elements) but " + want + " elements are required");
        }
    }

    /**
     * The arguments of {@link Backend#copyChannels}: src (M, Cs) and dst (M, Cd) of one dtype with the same
     * row count M (numel / last dimension), and the channel ranges [srcChannel, srcChannel + count) and
     * [dstChannel, dstChannel + count) inside Cs and Cd. Returns M.
     */
    public static long channelBlock(String op, Tensor src, int srcChannel, Tensor dst, int dstChannel, int count) {
        that(src.shape().rank() >= 1 && dst.shape().rank() >= 1, op, "src " + src.shape() + " and dst "
                + dst.shape() + " need a channel (last) dimension");
        that(src.dtype() == dst.dtype(), op, "src is " + src.dtype() + " but dst is " + dst.dtype());
        int cs = src.shape().last(), cd = dst.shape().last();
        long rows = src.numel() / Math.max(cs, 1);
        that(dst.numel() / Math.max(cd, 1) == rows, op, "src " + src.shape() + " has " + rows + " rows but dst "
                + dst.shape() + " has " + dst.numel() / Math.max(cd, 1));
        that(count >= 0 && srcChannel >= 0 && srcChannel + count <= cs, op, "channels [" + srcChannel + ", "
                + (srcChannel + count) + ") are outside src " + src.shape());
        that(dstChannel >= 0 && dstChannel + count <= cd, op, "channels [" + dstChannel + ", "
                + (dstChannel + count) + ") are outside dst " + dst.shape());
        return rows;
    }

    /** {@code a} and {@code b} must have equal shapes. */
    public static void same(String op, String argA, Tensor a, String argB, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": " + argA + " has shape " + a.shape() + " but " + argB
                    + " has shape " + b.shape() + "; they must match");
        }
    }

    /** {@code t} must hold elements of {@code want}. */
    public static void dtype(String op, String arg, Tensor t, DType want) {
        if (t.dtype() != want) {
            throw new IllegalArgumentException(op + ": " + arg + " is " + t.dtype() + " but " + want + " is required");
        }
    }

    /** A rank check with the expected layout spelled out, e.g. rank(op, "x", x, 4, "(N, H, W, C)"). */
    public static void rank(String op, String arg, Tensor t, int rank, String layout) {
        if (t.shape().rank() != rank) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + t.shape() + " but a rank-" + rank
                    + " tensor " + layout + " is required");
        }
    }

    /** A free-form condition with a message. */
    public static void that(boolean ok, String op, String message) {
        if (!ok) {
            throw new IllegalArgumentException(op + ": " + message);
        }
    }
}
