package org.densecl.train;

import org.densecl.backend.Backend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A training loop's per-step inputs in two copies, so that on a device the next batch's upload overlaps the
 * current step: {@link #stage} queues batch k+1 into the copy step k does not read
 * ({@link Backend#uploadAsync}: the copy waits only for the ops queued so far, which end with step k-1, that
 * copy's last reader), and {@link #next} switches to it ({@link Backend#awaitUpload}: the ops queued from
 * then on wait for the copy). The loop:
 * <pre>
 *   inputs.stage(batch 0 arrays);
 *   for each step k: inputs.next(); if (k + 1 < end) inputs.stage(batch k+1 arrays); step(inputs.input(0), ...);
 * </pre>
 * On host backends the copies are immediate and the two sets simply alternate. Stage and next alternate.
 */
public final class DoubleBufferedInputs {
    private final Backend be;
    private final Tensor[][] sets; // (2, inputs): the two device copies of every input
    private int staged = -1;       // the set holding a batch not yet handed out, or -1
    private int current = 1;       // the set the last next() returned

    /** Two copies of each input, allocated once: {@code dtypes[i]} (F32 or I32) of {@code shapes[i]}. */
    public DoubleBufferedInputs(Backend be, DType[] dtypes, Shape[] shapes) {
        if (dtypes.length != shapes.length || dtypes.length == 0) {
            throw new IllegalArgumentException("DoubleBufferedInputs: " + dtypes.length + " dtypes for "
                    + shapes.length + " shapes");
        }
        this.be = be;
        this.sets = new Tensor[2][dtypes.length];
        for (Tensor[] set : sets) {
            for (int i = 0; i < dtypes.length; i++) {
                set[i] = be.allocate(dtypes[i], shapes[i]); // (shapes[i])
            }
        }
    }

    /**
     * Queues the copies of one batch (a float[] per F32 input, an int[] per I32 input, in order) into the set
     * the current step does not read. The arrays may be reused on return.
     */
    public void stage(Object... arrays) {
        if (staged >= 0) {
            throw new IllegalStateException("DoubleBufferedInputs: a batch is staged already; call next() first");
        }
        int target = 1 - current;
        Tensor[] set = sets[target];
        if (arrays.length != set.length) {
            throw new IllegalArgumentException("DoubleBufferedInputs: " + arrays.length + " arrays for " + set.length
                    + " inputs");
        }
        for (int i = 0; i < set.length; i++) {
            switch (arrays[i]) {
                case float[] f -> be.uploadAsync(f, set[i]);
                case int[] n -> be.uploadAsync(n, set[i]);
                default -> throw new IllegalArgumentException("DoubleBufferedInputs: input " + i + " is a "
                        + arrays[i].getClass().getSimpleName() + ", not float[] or int[]");
            }
        }
        staged = target;
    }

    /** Switches to the staged batch, which the ops queued from now on see filled ({@link #input}). */
    public void next() {
        if (staged < 0) {
            throw new IllegalStateException("DoubleBufferedInputs: next() without a staged batch");
        }
        current = staged;
        staged = -1;
        for (Tensor t : sets[current]) {
            be.awaitUpload(t);
        }
    }

    /** Input {@code i} of the batch the last {@link #next} switched to. */
    public Tensor input(int i) {
        return sets[current][i];
    }
}
