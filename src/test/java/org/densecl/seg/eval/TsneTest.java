package org.densecl.seg.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TsneTest {
    /** n points in dim dimensions: the first half around 0, the second around (shift, shift, ...), unit noise. */
    private static double[][] twoClusters(int n, int dim, double shift, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] x = new double[n][dim];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < dim; k++) {
                double u1 = r.nextDouble(), u2 = r.nextDouble();
                x[i][k] = (i < n / 2 ? 0 : shift) + Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
            }
        }
        return x;
    }

    /** Fraction of points whose nearest other point in y has the same cluster (first half / second half). */
    private static double nearestNeighbourAgreement(double[][] y) {
        int n = y.length, agree = 0;
        for (int i = 0; i < n; i++) {
            int best = -1;
            double bestD = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double d = 0;
                for (int k = 0; k < y[i].length; k++) {
                    d += (y[i][k] - y[j][k]) * (y[i][k] - y[j][k]);
                }
                if (j != i && d < bestD) {
                    bestD = d;
                    best = j;
                }
            }
            agree += (i < n / 2) == (best < n / 2) ? 1 : 0;
        }
        return (double) agree / n;
    }

    /**
     * Two Gaussian clusters in 50-D, centres 3 apart per coordinate (21 apart in all, against a within-cluster
     * spread of 10): the 2-D map keeps them apart, and far apart compared with their own size.
     */
    @Test
    void separatedClustersStaySeparatedIn2D() {
        double[][] x = twoClusters(160, 50, 3, 7);
        double[][] y = Tsne.embed(x, Tsne.Options.defaults(42));
        assertEquals(160, y.length);
        double agreement = nearestNeighbourAgreement(y);
        assertTrue(agreement > 0.95, "nearest-neighbour label agreement " + agreement);
        // centroid distance vs mean distance to the own centroid
        double[] ca = new double[2], cb = new double[2];
        for (int i = 0; i < 160; i++) {
            double[] c = i < 80 ? ca : cb;
            c[0] += y[i][0] / 80;
            c[1] += y[i][1] / 80;
        }
        double spread = 0;
        for (int i = 0; i < 160; i++) {
            double[] c = i < 80 ? ca : cb;
            spread += Math.hypot(y[i][0] - c[0], y[i][1] - c[1]) / 160;
        }
        double gap = Math.hypot(ca[0] - cb[0], ca[1] - cb[1]);
        assertTrue(gap > 3 * spread, "centroids " + gap + " apart, clusters " + spread + " wide");
    }

    @Test
    void theSameSeedGivesTheSameMapAndAnotherSeedAnother() {
        float[][] x = new float[40][];
        double[][] d = twoClusters(40, 8, 2, 3);
        for (int i = 0; i < 40; i++) {
            x[i] = new float[8];
            for (int k = 0; k < 8; k++) {
                x[i][k] = (float) d[i][k];
            }
        }
        var o = Tsne.Options.defaults(1).withPerplexity(10).withIterations(300);
        double[][] a = Tsne.embed(x, o), b = Tsne.embed(x, o);
        double[][] c = Tsne.embed(x, new Tsne.Options(10, 300, Double.NaN, 2));
        for (int i = 0; i < 40; i++) {
            assertArrayEquals(a[i], b[i], 0, "point " + i);
        }
        assertFalse(Arrays.deepEquals(a, c), "a different seed starts elsewhere");
    }

    /** Each row of P_j|i has entropy ln(perplexity) and sums to 1; joint P is symmetric and sums to 1. */
    @Test
    void perplexityCalibration() {
        int n = 60;
        double[][] x = twoClusters(n, 5, 1, 11);
        double[] cond = Tsne.conditional(Tsne.squaredDistances(x), n, 12);
        for (int i = 0; i < n; i++) {
            double sum = 0, h = 0;
            for (int j = 0; j < n; j++) {
                double v = cond[i * n + j];
                sum += v;
                h -= v > 0 ? v * Math.log(v) : 0;
            }
            assertEquals(0, cond[i * n + i]);
            assertEquals(1, sum, 1e-12, "row " + i);
            assertEquals(Math.log(12), h, 1e-4, "row " + i + " entropy"); // bisection stops within 1e-5
        }
        double[] p = Tsne.joint(cond, n);
        double total = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(p[i * n + j], p[j * n + i], 0);
                total += p[i * n + j];
            }
        }
        assertEquals(1, total, 1e-9);
    }

    /** The analytic gradient matches central differences of KL(P || Q) (central differences: O(h^2) error). */
    @Test
    void gradientMatchesFiniteDifferencesOfTheKl() {
        int n = 12;
        double[][] x = twoClusters(n, 4, 2, 5);
        double[] p = Tsne.joint(Tsne.conditional(Tsne.squaredDistances(x), n, 4), n);
        SplittableRandom r = new SplittableRandom(9);
        double[] y = new double[2 * n];
        for (int k = 0; k < y.length; k++) {
            y[k] = r.nextDouble() * 4 - 2;
        }
        double[] grad = new double[2 * n];
        Tsne.gradient(p, 1, y, grad, new double[n * n]);
        double h = 1e-5;
        for (int k = 0; k < y.length; k++) {
            double keep = y[k];
            y[k] = keep + h;
            double up = Tsne.kl(p, y);
            y[k] = keep - h;
            double down = Tsne.kl(p, y);
            y[k] = keep;
            double numeric = (up - down) / (2 * h);
            assertEquals(numeric, grad[k], 1e-6 + 1e-4 * Math.abs(numeric), "coordinate " + k);
        }
    }

    @Test
    void badInputsAreClearErrors() {
        double[][] small = twoClusters(10, 3, 1, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> Tsne.embed(small, Tsne.Options.defaults(0)));
        assertTrue(e.getMessage().contains("perplexity 30") && e.getMessage().contains("10"), e.getMessage());
        double[][] ragged = {{1, 2}, {1, 2, 3}, {0, 0}, {4, 4}};
        var r = assertThrows(IllegalArgumentException.class,
                () -> Tsne.embed(ragged, Tsne.Options.defaults(0).withPerplexity(1)));
        assertTrue(r.getMessage().contains("point 1 has 3 values"), r.getMessage());
        double[][] nan = {{1, 2}, {Double.NaN, 0}, {0, 0}, {4, 4}};
        assertThrows(IllegalArgumentException.class, () -> Tsne.embed(nan, Tsne.Options.defaults(0).withPerplexity(1)));
        assertThrows(IllegalArgumentException.class, () -> Tsne.Options.defaults(0).withIterations(100));
    }
}
