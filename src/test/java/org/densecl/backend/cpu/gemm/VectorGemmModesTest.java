package org.densecl.backend.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorGemm}'s split-k mode (a transposed A, as in filter gradients), driven directly with
 * {@link MatrixPanels}, against a double-accumulating product computed here. Each case first asserts
 * the mode its sizes reach, so a change of thresholds cannot silently skip the mode.
 * C is a window of a wider matrix (ldc > n, cOff > 0), so adding the partial C's must respect both.
 */
class VectorGemmModesTest {
    private static final double U = 0x1p-24;
    private static Parallel two;
    private static Parallel one;
    private static VectorGemm modes; // asked which mode sizes take
    private final Arena arena = Arena.ofAuto();

    @BeforeAll
    static void setUp() {
        VectorWidths.assumeTheCpuHasThem();
        two = new Parallel(2);
        one = new Parallel(1);
        modes = new VectorGemm(two, GemmTuning.DEFAULT);
    }

    @AfterAll
    static void tearDown() {
        two.close();
        one.close();
    }

    @Test
    void splitKMatchesReference() {
        // Transposed A (dY^T of a filter gradient), few rows, small C, k >= 1024 (k = 2100: 9 k blocks, the
        // last short); n < m: row slabs otherwise. alpha 1.5 does not take the mode, but must be exact too.
        int[][] sizes = {{29, 37, 2100}, {23, 45, 4500}, {3, 350, 1030}, {37, 29, 2100}, {200, 7, 7000}};
        for (int[] s : sizes) {
            assertTrue(modes.splitsK(2, s[0], s[1], s[2], true), "split-k for " + sizeText(s));
            check(two, s[0], s[1], s[2], true, 1f, 0f);
            check(two, s[0], s[1], s[2], true, 1.5f, -0.75f);
            check(two, s[0], s[1], s[2], true, 1f, 1f);
        }
        // A plain A (forward GEMMs), one thread, short k, or enough rows for the shared-B mode: no split.
        assertFalse(modes.splitsK(2, 29, 37, 2100, false));
        assertFalse(modes.splitsK(1, 29, 37, 2100, true));
        assertFalse(modes.splitsK(2, 29, 37, 1000, true));
        assertFalse(modes.splitsK(2, 600, 40, 2100, true));
        // A small C (the quick recipes' 8- to 32-channel filter gradients): row or column slabs.
        assertFalse(modes.splitsK(2, 32, 8, 8192, true));
        assertFalse(modes.splitsK(2, 31, 33, 8192, true));
    }

    @Test
    void otherModesMatchReferenceWithTheSameWindow() {
        // The driver's refactoring (C target and k range as parameters) must leave the other modes exact.
        assertTrue(VectorGemm.sharesB(2, 600));
        check(two, 600, 40, 700, true, 1f, 1f);
        check(two, 600, 40, 700, false, 0.5f, 0f);
        assertFalse(VectorGemm.sharesB(2, 100) || modes.splitsK(2, 100, 2700, 600, true));
        check(two, 100, 2700, 600, true, 1f, 0f);
        check(two, 29, 37, 2100, false, 1f, 0f);
        check(one, 29, 37, 2100, true, -2f, 0.5f);
    }

    @Test
    void splitKIsDeterministic() {
        // The k blocks are handed out dynamically; the bits must not depend on which thread ran which.
        float[] first = null;
        for (int rep = 0; rep < 4; rep++) {
            float[] c = run(two, 29, 37, 4500, true, 1f, 0f, 77).c;
            if (first == null) {
                first = c;
            } else {
                assertArrayEquals(first, c, "split-k run " + rep + " differs bitwise from run 0 (m=29 n=37 k=4500)");
            }
        }
    }

    private record Result(float[] c, double[] expected, double[] absSum) {}

    private void check(Parallel p, int m, int n, int k, boolean transA, float alpha, float beta) {
        Result r = run(p, m, n, k, transA, alpha, beta, 31L * m + n + k);
        String what = "VectorGemm " + p.threads() + " threads m=" + m + " n=" + n + " k=" + k + " transA=" + transA
                + " alpha=" + alpha + " beta=" + beta;
        // f32 sums of k products of magnitude <= 1 against a double reference: the rounding error is
        // bounded by about k * U times the sum of |terms| (absSum); factor 2 for alpha/beta and the store.
        for (int i = 0; i < r.c.length; i++) {
            double tol = 2 * k * U * r.absSum[i] + 1e-6;
            double diff = Math.abs(r.c[i] - r.expected[i]);
            int row = i / n, col = i % n;
            assertTrue(diff <= tol, what + ": C(" + row + ", " + col + ") = " + r.c[i] + ", expected "
                    + r.expected[i] + " (|diff| " + diff + " > " + tol + ")");
        }
    }

    // C window (m, n) at column offset 3 of a (m, n + 5) matrix, so ldc = n + 5 and cOff = 12 bytes.
    private Result run(Parallel p, int m, int n, int k, boolean transA, float alpha, float beta, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[m * k];  // (k, m) when transA, else (m, k)
        float[] b = new float[k * n];  // (k, n)
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        int ldc = n + 5, col0 = 3;
        MemorySegment aSeg = segment(a), bSeg = segment(b);
        MemorySegment cSeg = arena.allocate(4L * m * ldc, 64); // (m, ldc)
        float[] old = new float[m * ldc];
        for (int i = 0; i < old.length; i++) {
            old[i] = beta == 0f ? Float.NaN : (float) (2 * rnd.nextDouble() - 1);
            cSeg.setAtIndex(ValueLayout.JAVA_FLOAT, i, old[i]);
        }
        new VectorGemm(p, GemmTuning.DEFAULT).run(m, n, k, alpha, new MatrixPanels().asA(aSeg, m, k, transA),
                new MatrixPanels().asB(bSeg, k, n, false), beta, cSeg, 4L * col0, ldc);
        float[] c = new float[m * n];
        double[] expected = new double[m * n], absSum = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0, abs = 0;
                for (int q = 0; q < k; q++) {
                    double t = (double) (transA ? a[q * m + i] : a[i * k + q]) * b[q * n + j];
                    sum += t;
                    abs += Math.abs(t);
                }
                double prior = beta == 0f ? 0 : (double) beta * old[i * ldc + col0 + j];
                expected[i * n + j] = alpha * sum + prior;
                absSum[i * n + j] = Math.abs(alpha) * abs + Math.abs(prior);
                c[i * n + j] = cSeg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * ldc + col0 + j);
            }
        }
        // Outside the window nothing may change.
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < ldc; j++) {
                if (j < col0 || j >= col0 + n) {
                    float now = cSeg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * ldc + j);
                    assertEquals(Float.floatToRawIntBits(old[i * ldc + j]), Float.floatToRawIntBits(now),
                            "VectorGemm m=" + m + " n=" + n + " k=" + k + " wrote outside C at (" + i + ", " + j + ")");
                }
            }
        }
        return new Result(c, expected, absSum);
    }

    private MemorySegment segment(float[] x) {
        MemorySegment s = arena.allocate(4L * x.length, 64);
        MemorySegment.copy(x, 0, s, ValueLayout.JAVA_FLOAT, 0, x.length);
        return s;
    }

    private static String sizeText(int[] s) {
        return "m=" + s[0] + " n=" + s[1] + " k=" + s[2];
    }
}
