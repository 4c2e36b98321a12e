package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.tensor.Tensor;

/**
 * Reference losses and normalisation: per-pixel softmax cross-entropy with an ignore index
 * (mmsegmentation's CrossEntropyLoss; the denominator is M, or the non-ignored count), and F.normalize's
 * L2 normalisation along the last dimension with its eps clamp.
 *
 * <p>Cross-entropy math per row: with logsumexp = max + log(sum exp(x - max)) (shifted so exp never
 * overflows), loss_m = logsumexp - x[label], probs = exp(x - logsumexp) and d loss_m / d x = probs - onehot.
 */
final class RefLosses {
    private RefLosses() {}

    /** logits (M, C) (any shape with last dimension C), labels I32 (M), probs like logits, loss (1). */
    static void crossEntropyForward(Tensor logits, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                    Tensor probs, Tensor loss) {
        String op = "softmaxCrossEntropyForward";
        int c = checkCrossEntropy(op, logits, "logits", labels);
        RefArgs.floats(op, "probs", probs);
        RefArgs.floats(op, "loss", loss);
        Check.same(op, "probs", probs, "logits", logits);
        Check.numel(op, "loss", loss, 1);
        long rows = labels.numel();
        double total = 0;
        for (long m = 0; m < rows; m++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, logits.get(m * c + j));
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(logits.get(m * c + j) - max);
            }
            double logSumExp = max + Math.log(sum);
            for (int j = 0; j < c; j++) {
                probs.set(m * c + j, Math.exp(logits.get(m * c + j) - logSumExp));
            }
            int label = checkedLabel(op, labels, m, c, ignoreIndex);
            if (label != ignoreIndex) {
                total += logSumExp - logits.get(m * c + label);
            }
        }
        double denominator = denominator(labels, ignoreIndex, averageNonIgnored);
        loss.set(0, denominator == 0 ? 0 : total / denominator);
    }

    /** dlogits += scale * (probs - onehot(label)) / denominator; ignored rows get nothing. */
    static void crossEntropyBackward(Tensor probs, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                     double scale, Tensor dlogits) {
        String op = "softmaxCrossEntropyBackward";
        int c = checkCrossEntropy(op, probs, "probs", labels);
        RefArgs.floats(op, "dlogits", dlogits);
        Check.same(op, "dlogits", dlogits, "probs", probs);
        double denominator = denominator(labels, ignoreIndex, averageNonIgnored);
        for (long m = 0; m < labels.numel(); m++) {
            int label = checkedLabel(op, labels, m, c, ignoreIndex);
            if (label == ignoreIndex || denominator == 0) {
                continue;
            }
            for (int j = 0; j < c; j++) {
                long i = m * c + j;
                double g = probs.get(i) - (j == label ? 1 : 0);
                dlogits.set(i, dlogits.get(i) + scale * g / denominator);
            }
        }
    }

    /** x, y (M, C) (any shape with last dimension C); norms (M) receives the unclamped ||x||. */
    static void l2NormalizeForward(Tensor x, double eps, Tensor y, Tensor norms) {
        String op = "l2NormalizeForward";
        RefArgs.floats(op, "x", x);
        RefArgs.floats(op, "y", y);
        RefArgs.floats(op, "norms", norms);
        Check.that(eps > 0, op, "eps must be positive, got " + eps);
        int c = x.shape().rank() == 0 ? 0 : x.shape().last();
        long rows = RefArgs.rowsOf(op, "x", x, c);
        Check.same(op, "y", y, "x", x);
        Check.numel(op, "norms (one per row of x " + x.shape() + ")", norms, rows);
        for (long m = 0; m < rows; m++) {
            double sq = 0;
            for (int j = 0; j < c; j++) {
                double v = x.get(m * c + j);
                sq += v * v;
            }
            double norm = Math.sqrt(sq);
            double divisor = Math.max(norm, eps);
            for (int j = 0; j < c; j++) {
                y.set(m * c + j, x.get(m * c + j) / divisor);
            }
            norms.set(m, norm);
        }
    }

    /**
     * dx += (dy - y * (y . dy)) / ||x|| per row; for a row with ||x|| < eps the divisor was the constant
     * eps (clamp_min passes no gradient to the norm there), so dx += dy / eps.
     */
    static void l2NormalizeBackward(Tensor y, Tensor norms, double eps, Tensor dy, Tensor dx) {
        String op = "l2NormalizeBackward";
        RefArgs.floats(op, "y", y);
        RefArgs.floats(op, "norms", norms);
        RefArgs.floats(op, "dy", dy);
        RefArgs.floats(op, "dx", dx);
        Check.that(eps > 0, op, "eps must be positive, got " + eps);
        int c = y.shape().rank() == 0 ? 0 : y.shape().last();
        long rows = RefArgs.rowsOf(op, "y", y, c);
        Check.same(op, "dy", dy, "y", y);
        Check.same(op, "dx", dx, "y", y);
        Check.numel(op, "norms (one per row of y " + y.shape() + ")", norms, rows);
        for (long m = 0; m < rows; m++) {
            double norm = norms.get(m);
            if (norm < eps) {
                for (int j = 0; j < c; j++) {
                    long i = m * c + j;
                    dx.set(i, dx.get(i) + dy.get(i) / eps);
                }
                continue;
            }
            double dot = 0;
            for (int j = 0; j < c; j++) {
                dot += y.get(m * c + j) * dy.get(m * c + j);
            }
            for (int j = 0; j < c; j++) {
                long i = m * c + j;
                dx.set(i, dx.get(i) + (dy.get(i) - y.get(i) * dot) / norm);
            }
        }
    }

    /** Checks scores (M, C) and labels I32 with M elements; returns C. */
    private static int checkCrossEntropy(String op, Tensor scores, String scoresName, Tensor labels) {
        RefArgs.floats(op, scoresName, scores);
        RefArgs.ints(op, "labels", labels);
        Check.that(scores.shape().rank() >= 1 && scores.shape().last() > 0, op,
                scoresName + " has shape " + scores.shape() + "; (M, C) with C >= 1 classes is required");
        int c = scores.shape().last();
        Check.numel(op, "labels (one per row of " + scoresName + " " + scores.shape() + ")", labels,
                scores.numel() / c);
        return c;
    }

    /** labels[m], after checking it is a class in [0, C) or the ignore index. */
    private static int checkedLabel(String op, Tensor labels, long m, int c, int ignoreIndex) {
        int label = labels.getInt(m);
        if (label != ignoreIndex && (label < 0 || label >= c)) {
            throw new IllegalArgumentException(op + ": label " + label + " at pixel " + m + " is outside [0, " + c
                    + ") and is not the ignore index " + ignoreIndex);
        }
        return label;
    }

    /** M, or the number of non-ignored labels when averageNonIgnored. */
    private static double denominator(Tensor labels, int ignoreIndex, boolean averageNonIgnored) {
        if (!averageNonIgnored) {
            return labels.numel();
        }
        long count = 0;
        for (long m = 0; m < labels.numel(); m++) {
            count += labels.getInt(m) != ignoreIndex ? 1 : 0;
        }
        return count;
    }
}
