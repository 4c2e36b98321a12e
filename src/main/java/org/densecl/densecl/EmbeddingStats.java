package org.densecl.densecl;

/**
 * Health of the global embedding in one step, logged beside the losses so that a collapse is visible
 * before the loss says so. All four come from the batch alone (no queue read), so they cost O(N * (D + H)).
 *
 * <ul>
 *   <li>{@code qStd}: sqrt(D) times the mean over dimensions of the standard deviation over the batch of the
 *       normalised queries q (SimSiam's collapse measure, Chen and He 2021, section 4.1). About 1 when the N
 *       unit vectors are spread like random directions, 0 when every image maps to the same vector; an
 *       InfoNCE loss at ln(K + 1) with qStd near 0 is a collapsed head, not a hard task.</li>
 *   <li>{@code simPos}: mean q_i . k_i, the positive logit times tau.</li>
 *   <li>{@code simNeg}: mean q_i . k_j over i != j, what a negative from this batch would score.</li>
 *   <li>{@code deadHidden}: fraction of the global head's hidden ReLU units (mlp.1) that are 0 for every image
 *       of the batch; units dead for all inputs pass no gradient and do not come back.</li>
 * </ul>
 */
public record EmbeddingStats(double qStd, double simPos, double simNeg, double deadHidden) {

    /** q, k (N, D) unit rows; hidden (N, H) the ReLU output of the global head. */
    public static EmbeddingStats of(float[] q, float[] k, float[] hidden, int n, int d, int h) {
        double stdSum = 0;
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += q[i * d + j];
            }
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double e = q[i * d + j] - mean;
                var += e * e;
            }
            stdSum += Math.sqrt(var / Math.max(1, n - 1));
        }
        double pos = 0, neg = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int c = 0; c < d; c++) {
                    dot += (double) q[i * d + c] * k[j * d + c];
                }
                if (i == j) {
                    pos += dot;
                } else {
                    neg += dot;
                }
            }
        }
        int dead = 0;
        for (int u = 0; u < h; u++) {
            boolean allZero = true;
            for (int i = 0; i < n && allZero; i++) {
                allZero = hidden[i * h + u] <= 0;
            }
            dead += allZero ? 1 : 0;
        }
        return new EmbeddingStats(Math.sqrt(d) * stdSum / d, pos / n, n > 1 ? neg / ((double) n * (n - 1)) : 0,
                (double) dead / h);
    }
}
