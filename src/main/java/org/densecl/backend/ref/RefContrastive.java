package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.backend.ContrastiveChecks;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Reference DenseCL contrastive kernels (spec sections 2.1 to 2.3): the dense correspondence
 * (per-image similarity argmax, then a gather of the matched key vectors) and the InfoNCE loss with its
 * anchor gradient. Scalar loops with double accumulators on F32 or F64 tensors.
 *
 * <p>InfoNCE per row: z = [u . pos, u . queue_j ...] / tau, lse = max + log(sum exp(z - max)) (shifted, so
 * exp never overflows), loss += w * (lse - z_0), p = exp(z - lse), du += w / tau * ((p_0 - 1) pos +
 * sum_j p_{j+1} queue_j). One row at a time: the oracle needs no row blocks, only a (K + 1) logit row.
 */
final class RefContrastive {
    private RefContrastive() {}

    /** qb, kb (N, S2, C); indices I32 (N, S2) = argmax_j qb[n, i] . kb[n, j], first index on ties. */
    static void denseMatch(Tensor qb, Tensor kb, Tensor indices) {
        String op = "denseMatch";
        RefArgs.floats(op, "qb", qb);
        RefArgs.floats(op, "kb", kb);
        RefArgs.ints(op, "indices", indices);
        ContrastiveChecks.denseMatch(qb, kb, indices);
        int n = qb.shape().dim(0), s2 = qb.shape().dim(1), c = qb.shape().dim(2);
        for (int img = 0; img < n; img++) {
            for (int i = 0; i < s2; i++) {
                long qRow = ((long) img * s2 + i) * c;
                int best = 0;
                double bestSim = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < s2; j++) {
                    long kRow = ((long) img * s2 + j) * c;
                    double sim = 0;
                    for (int ch = 0; ch < c; ch++) {
                        sim += qb.get(qRow + ch) * kb.get(kRow + ch);
                    }
                    // Strictly greater: an equal later value keeps the first index; NaN never wins.
                    if (sim > bestSim) {
                        bestSim = sim;
                        best = j;
                    }
                }
                indices.setInt((long) img * s2 + i, best);
            }
        }
    }

    /** grid (N, S2, D), indices I32 (N, S2), out (N, S2, D): out[n, i] = grid[n, indices[n, i]]. */
    static void denseGather(Tensor grid, Tensor indices, Tensor out) {
        String op = "denseGather";
        RefArgs.floats(op, "grid", grid);
        RefArgs.ints(op, "indices", indices);
        RefArgs.floats(op, "out", out);
        ContrastiveChecks.denseGather(grid, indices, out);
        int n = grid.shape().dim(0), s2 = grid.shape().dim(1), d = grid.shape().dim(2);
        for (int img = 0; img < n; img++) {
            for (int i = 0; i < s2; i++) {
                int j = indices.getInt((long) img * s2 + i);
                Check.that(j >= 0 && j < s2, op, "indices[" + img + ", " + i + "] = " + j + " is outside [0, "
                        + s2 + ") for grid " + grid.shape());
                long src = ((long) img * s2 + j) * d, dst = ((long) img * s2 + i) * d;
                for (int k = 0; k < d; k++) {
                    out.set(dst + k, grid.get(src + k));
                }
            }
        }
    }

    /**
     * anchors, positives (R, D), queue (K, D) rows of keys, loss (1) overwritten with w * sum of row CE,
     * dAnchors (R, D) accumulated, or null.
     */
    static void infoNce(Tensor anchors, Tensor positives, Tensor queue, double tau, double w, Tensor loss,
                        Tensor dAnchors) {
        String op = "infoNceLoss";
        RefArgs.floats(op, "anchors", anchors);
        RefArgs.floats(op, "positives", positives);
        RefArgs.floats(op, "queue", queue);
        RefArgs.floats(op, "loss", loss);
        ContrastiveChecks.infoNce(anchors, positives, queue, tau, loss, dAnchors);
        int r = anchors.shape().dim(0), d = anchors.shape().dim(1), k = queue.shape().dim(0);
        if (dAnchors != null) {
            RefArgs.floats(op, "dAnchors", dAnchors);
        }
        double[] z = new double[k + 1]; // (K + 1) logits of one row
        double[] g = new double[d];     // (D) this row's anchor gradient
        double total = 0;
        for (int row = 0; row < r; row++) {
            long u = (long) row * d;
            z[0] = dot(anchors, u, positives, u, d) / tau;
            for (int j = 0; j < k; j++) {
                z[j + 1] = dot(anchors, u, queue, (long) j * d, d) / tau;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (double v : z) {
                sum += Math.exp(v - max);
            }
            double lse = max + Math.log(sum);
            total += lse - z[0];
            if (dAnchors == null) {
                continue;
            }
            double scale = w / tau;
            for (int ch = 0; ch < d; ch++) {
                g[ch] = scale * (Math.exp(z[0] - lse) - 1) * positives.get(u + ch);
            }
            for (int j = 0; j < k; j++) {
                double pj = scale * Math.exp(z[j + 1] - lse);
                for (int ch = 0; ch < d; ch++) {
                    g[ch] += pj * queue.get((long) j * d + ch);
                }
            }
            for (int ch = 0; ch < d; ch++) {
                dAnchors.set(u + ch, dAnchors.get(u + ch) + g[ch]);
            }
        }
        loss.set(0, w * total);
    }

    private static double dot(Tensor a, long aOff, Tensor b, long bOff, int d) {
        double s = 0;
        for (int ch = 0; ch < d; ch++) {
            s += a.get(aOff + ch) * b.get(bOff + ch);
        }
        return s;
    }
}
