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
