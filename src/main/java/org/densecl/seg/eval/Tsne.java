package org.densecl.seg.eval;

import java.util.SplittableRandom;

/**
 * Exact t-SNE (van der Maaten and Hinton, 2008) of feature vectors into 2-D, for the report's feature
 * plots. Written here because Maven Central has no maintained, permissively licensed Java t-SNE: Smile's
 * is LGPL (2.0) then GPL (2.1 on), its last Apache release (1.5.3) dates from 2019, and lejon's
 * T-SNE-Java is not on Central.
 *
 * <p>The method is scikit-learn's {@code method='exact'}: squared Euclidean input distances; per point, a
 * Gaussian whose precision is found by binary search so that its entropy is ln(perplexity); joint
 * P = (P_j|i + P_i|j) / 2n; Student-t (1 degree of freedom) similarities in 2-D; gradient descent with
 * momentum and per-coordinate gains (+0.2 / x0.8, at least 0.01), 250 iterations of early exaggeration
 * (P x 12, momentum 0.5) and then the rest at momentum 0.8 (momentum and gains restart between the two
 * phases, as in scikit-learn). It always runs all iterations (no early stop). Time and memory are O(n^2):
 * meant for at most a few thousand points.
 *
 * <p>Deterministic: the same points, options and seed give bit-identical output on every machine
 * (StrictMath, sums in a fixed order, no threads).
 */
public final class Tsne {
    static final int EXPLORATION_ITERATIONS = 250;
    static final double EARLY_EXAGGERATION = 12;
    static final int MAX_POINTS = 5000;
    private static final double MIN_GAIN = 0.01;
    private static final double EPS = 2.220446049250313e-16; // numpy's float64 machine epsilon, sklearn's floor

    private Tsne() {}

    /**
     * @param perplexity   effective number of neighbours, typically 5..50; must be below n - 1
     * @param iterations   gradient steps in all, the first 250 with early exaggeration (at least 250)
     * @param learningRate step size; NaN for scikit-learn's "auto", max(n / 12 / 4, 50)
     * @param seed         seed of the initial layout (normal, standard deviation 1e-4)
     */
    public record Options(double perplexity, int iterations, double learningRate, long seed) {
        public Options {
            if (!(perplexity > 0) || iterations < EXPLORATION_ITERATIONS || learningRate <= 0) {
                throw new IllegalArgumentException("t-SNE options: perplexity must be > 0 (got " + perplexity
                        + "), iterations >= " + EXPLORATION_ITERATIONS + " (got " + iterations
                        + "), learning rate > 0 or NaN for auto (got " + learningRate + ")");
            }
        }

        /** Perplexity 30, 1000 iterations, automatic learning rate. */
        public static Options defaults(long seed) {
            return new Options(30, 1000, Double.NaN, seed);
        }

        public Options withPerplexity(double p) {
            return new Options(p, iterations, learningRate, seed);
        }

        public Options withIterations(int n) {
            return new Options(perplexity, n, learningRate, seed);
        }
    }

    /** One row per point, all of one length; returns (n, 2). */
    public static double[][] embed(float[][] x, Options options) {
        double[][] d = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            d[i] = new double[x[i].length];
            for (int k = 0; k < x[i].length; k++) {
                d[i][k] = x[i][k];
            }
        }
        return embed(d, options);
    }

    /** One row per point, all of one length; returns (n, 2). */
    public static double[][] embed(double[][] x, Options options) {
        int n = x.length;
        if (n > MAX_POINTS) {
            throw new IllegalArgumentException("exact t-SNE is O(n^2): " + n + " points is more than " + MAX_POINTS
                    + "; embed a random subset");
        }
        if (!(options.perplexity() < n - 1)) {
            throw new IllegalArgumentException("t-SNE perplexity " + options.perplexity() + " needs more than "
                    + (int) Math.floor(options.perplexity() + 1) + " points, got " + n + "; lower the perplexity");
        }
        double[] p = joint(conditional(squaredDistances(x), n, options.perplexity()), n);
        double lr = Double.isNaN(options.learningRate()) ? Math.max(n / EARLY_EXAGGERATION / 4, 50) : options.learningRate();

        double[] y = new double[2 * n]; // (n, 2)
        SplittableRandom rnd = new SplittableRandom(options.seed());
        for (int i = 0; i < y.length; i++) {
            y[i] = 1e-4 * gaussian(rnd);
        }
        double[] grad = new double[2 * n], update = new double[2 * n], gains = new double[2 * n];
        double[] num = new double[n * n];
        for (int it = 0; it < options.iterations(); it++) {
            boolean exploring = it < EXPLORATION_ITERATIONS;
            if (it == 0 || it == EXPLORATION_ITERATIONS) {
                java.util.Arrays.fill(update, 0);
                java.util.Arrays.fill(gains, 1);
            }
            gradient(p, exploring ? EARLY_EXAGGERATION : 1, y, grad, num);
            double momentum = exploring ? 0.5 : 0.8;
            for (int k = 0; k < y.length; k++) {
                gains[k] = update[k] * grad[k] < 0 ? gains[k] + 0.2 : gains[k] * 0.8;
                gains[k] = Math.max(gains[k], MIN_GAIN);
                update[k] = momentum * update[k] - lr * gains[k] * grad[k];
                y[k] += update[k];
            }
        }
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += y[2 * i];
            my += y[2 * i + 1];
        }
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = new double[] {y[2 * i] - mx / n, y[2 * i + 1] - my / n};
        }
        return out;
    }

    /** Squared Euclidean distances, (n, n); checks the rows are of one length and finite. */
    static double[] squaredDistances(double[][] x) {
        int n = x.length;
        if (n < 2) {
            throw new IllegalArgumentException("t-SNE needs at least 2 points, got " + n);
        }
        int dim = x[0].length;
        for (int i = 0; i < n; i++) {
            if (x[i].length != dim || dim == 0) {
                throw new IllegalArgumentException("t-SNE: point " + i + " has " + x[i].length + " values, point 0 has "
                        + dim + "; every point needs the same non-zero number");
            }
            for (double v : x[i]) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("t-SNE: point " + i + " has a non-finite value " + v);
                }
            }
        }
        double[] d = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double s = 0;
                for (int k = 0; k < dim; k++) {
                    double t = x[i][k] - x[j][k];
                    s += t * t;
                }
                d[i * n + j] = s;
                d[j * n + i] = s;
            }
        }
        return d;
    }

    /**
     * P_j|i, (n, n), row i summing to 1 with P_i|i = 0: a Gaussian on the squared distances whose precision
     * beta is bisected until the row's entropy (nats) is within 1e-5 of ln(perplexity), as scikit-learn does.
     * Distances are shifted by the row's nearest one first, which leaves P unchanged but keeps exp from
     * underflowing for far-apart points.
     */
    static double[] conditional(double[] d2, int n, double perplexity) {
        double target = StrictMath.log(perplexity);
        double[] p = new double[n * n];
        for (int i = 0; i < n; i++) {
            int row = i * n;
            double nearest = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    nearest = Math.min(nearest, d2[row + j]);
                }
            }
            double beta = 1, lo = Double.NEGATIVE_INFINITY, hi = Double.POSITIVE_INFINITY, sum = 1;
            for (int step = 0; step < 200; step++) {
                sum = 0;
                double weighted = 0;
                for (int j = 0; j < n; j++) {
                    if (j == i) {
                        continue;
                    }
                    double shifted = d2[row + j] - nearest;
                    double v = StrictMath.exp(-beta * shifted);
                    p[row + j] = v;
                    sum += v;
                    weighted += shifted * v;
                }
                double entropy = StrictMath.log(sum) + beta * weighted / sum; // sum >= 1: the nearest has exp(0)
                double diff = entropy - target;
                if (Math.abs(diff) <= 1e-5) {
                    break;
                }
                if (diff > 0) { // too flat: sharpen
                    lo = beta;
                    beta = hi == Double.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
                } else {
                    hi = beta;
                    beta = lo == Double.NEGATIVE_INFINITY ? beta / 2 : (beta + lo) / 2;
                }
            }
            for (int j = 0; j < n; j++) {
                p[row + j] /= sum;
            }
        }
        return p;
    }

    /** Symmetric joint P = (P_j|i + P_i|j) / 2n, (n, n), floored at machine epsilon off the diagonal. */
    static double[] joint(double[] cond, int n) {
        double[] p = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j) {
                    p[i * n + j] = Math.max((cond[i * n + j] + cond[j * n + i]) / (2.0 * n), EPS);
                }
            }
        }
        return p;
    }

    /**
     * The gradient of KL(exaggeration * P || Q) with respect to y (n, 2), into {@code grad}:
     * 4 sum_j (p_ij - q_ij) (1 + |y_i - y_j|^2)^-1 (y_i - y_j). {@code num} (n, n) is scratch.
     */
    static void gradient(double[] p, double exaggeration, double[] y, double[] grad, double[] num) {
        int n = y.length / 2;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                double v = 1 / (1 + dx * dx + dy * dy);
                num[i * n + j] = v;
                num[j * n + i] = v;
                sum += 2 * v;
            }
        }
        for (int i = 0; i < n; i++) {
            double gx = 0, gy = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) {
                    continue;
                }
                double v = num[i * n + j];
                double m = (exaggeration * p[i * n + j] - Math.max(v / sum, EPS)) * v;
                gx += m * (y[2 * i] - y[2 * j]);
                gy += m * (y[2 * i + 1] - y[2 * j + 1]);
            }
            grad[2 * i] = 4 * gx;
            grad[2 * i + 1] = 4 * gy;
        }
    }

    /** KL(P || Q) of a layout y (n, 2): sum over i != j of p_ij ln(p_ij / q_ij). */
    static double kl(double[] p, double[] y) {
        int n = y.length / 2;
        double[] num = new double[n * n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j) {
                    double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                    num[i * n + j] = 1 / (1 + dx * dx + dy * dy);
                    sum += num[i * n + j];
                }
            }
        }
        double kl = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j) {
                    double q = Math.max(num[i * n + j] / sum, EPS);
                    kl += p[i * n + j] * StrictMath.log(p[i * n + j] / q);
                }
            }
        }
        return kl;
    }

    /** Standard normal (Box-Muller), from the seeded stream only. */
    private static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return StrictMath.sqrt(-2 * StrictMath.log(1 - u1)) * StrictMath.cos(2 * Math.PI * u2);
    }
}
