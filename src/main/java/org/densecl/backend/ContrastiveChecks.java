package org.densecl.backend;

import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Shape checks of the DenseCL kernels (denseMatch, denseGather, infoNceLoss), shared by every backend
 * so that each backend checks only what is its own (dtypes it accepts, index ranges it reads).
 */
public final class ContrastiveChecks {
    private ContrastiveChecks() {}

    /** qb, kb (N, S2, C); indices (N, S2). */
    public static void denseMatch(Tensor qb, Tensor kb, Tensor indices) {
        String op = "denseMatch";
        Check.rank(op, "qb", qb, 3, "(N, S2, C)");
        Check.same(op, "kb", kb, "qb", qb);
        Check.shape(op, "indices", indices, Shape.of(qb.shape().dim(0), qb.shape().dim(1)));
    }

    /** grid (N, S2, D); indices (N, S2); out like grid. */
    public static void denseGather(Tensor grid, Tensor indices, Tensor out) {
        String op = "denseGather";
        Check.rank(op, "grid", grid, 3, "(N, S2, D)");
        Check.shape(op, "indices", indices, Shape.of(grid.shape().dim(0), grid.shape().dim(1)));
        Check.same(op, "out", out, "grid", grid);
    }

    /** anchors, positives (R, D); queue (K, D); loss (1); dAnchors like anchors or null; tau > 0. */
    public static void infoNce(Tensor anchors, Tensor positives, Tensor queue, double tau, Tensor loss,
                               Tensor dAnchors) {
        String op = "infoNceLoss";
        Check.rank(op, "anchors", anchors, 2, "(R, D)");
        Check.same(op, "positives", positives, "anchors", anchors);
        Check.rank(op, "queue", queue, 2, "(K, D)");
        Check.shape(op, "queue", queue, Shape.of(queue.shape().dim(0), anchors.shape().dim(1)));
        Check.numel(op, "loss", loss, 1);
        Check.that(tau > 0, op, "temperature must be positive, got " + tau);
        if (dAnchors != null) {
            Check.same(op, "dAnchors", dAnchors, "anchors", anchors);
        }
    }
}
