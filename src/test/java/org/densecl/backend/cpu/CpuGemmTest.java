package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.densecl.backend.cpu.gemm.GemmTuning;
import org.densecl.backend.cpu.gemm.VectorGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;
import org.densecl.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cpu GEMM (both providers) against the reference backend's double-accumulating GEMM, for every
 * transpose combination, awkward sizes (1x1x1 up to sizes crossing the vector driver's MC/KC/NC blocks
 * and both of its parallel modes) and alpha/beta combinations, including beta = 0 over NaN.
 */
class CpuGemmTest {
    private static RefBackend ref;
    private static Parallel two;
    private static Parallel one;

    @BeforeAll
    static void setUp() {
        VectorWidths.assumeTheCpuHasThem();
        ref = new RefBackend();
        two = new Parallel(2);
        one = new Parallel(1);
    }

    @AfterAll
    static void tearDown() {
        ref.close();
        two.close();
        one.close();
    }

    /** (m, n, k): tiny, odd, and crossing MR/NR/MC/KC/NC; 450 rows use the 2-thread shared-B mode. */
    static final int[][] SIZES = {
        {1, 1, 1}, {7, 13, 5}, {33, 17, 65}, {129, 67, 131},
        {VectorGemm.MC + 5, 2 * VectorGemm.NR + 3, VectorGemm.KC + 3},
        {450, 40, 300},
        {5, VectorGemm.NC + 20, 7},
    };

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String provider : List.of("vector", "openblas")) {
            for (int[] s : SIZES) {
                for (int t = 0; t < 4; t++) {
                    out.add(Arguments.of(provider, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} m={1} n={2} k={3} transA={4} transB={5}")
    @MethodSource("cases")
    void matchesReference(String provider, int m, int n, int k, boolean transA, boolean transB) {
        CpuGemm gemm = GemmTesting.provider(two, provider);
        // alpha/beta pairs: plain overwrite, scaled over NaN garbage, general, accumulate.
        float[][] ab = {{1f, 0f}, {0.5f, 0f}, {1.5f, -0.75f}, {1f, 1f}};
        for (float[] p : ab) {
            check(gemm, m, n, k, transA, transB, p[0], p[1]);
        }
    }

    @Test
    void singleThreadMatchesReference() {
        CpuGemm gemm = new CpuGemm(one, "vector");
        check(gemm, 450, 40, 300, false, true, 1f, 0f);
        check(gemm, 129, 67, 131, true, false, 1f, 1f);
    }

    @Test
    void perKBlockPathMatchesReference() {
        // The shared-B mode packs all of B's k blocks at once (whole-k) when they fit WHOLE_K_FLOATS, and
        // one k block at a time otherwise; the cases above take the first path, this one the second.
        CpuGemm gemm = new CpuGemm(two, "vector", GemmTuning.DEFAULT.withWholeK(false));
        for (int t = 0; t < 4; t++) {
            check(gemm, 450, 40, 300, (t & 1) != 0, (t & 2) != 0, 1.5f, -0.75f);
        }
    }

    @Test
    void directCKernelsGiveTheTilePathsBits() {
        // Whole tiles with alpha 1 and beta 0 or 1 are written by the kernels themselves (directC), the
        // rest through the tile array and update; both add the same terms in the same order, so the two
        // paths must agree bit for bit, in every mode: shared-B (m 450), slab (m 40), split-k (m 29 with
        // k 2100 and A transposed), edges in both directions (m, n not multiples of 6, 16).
        // Also against the reference.
        int[][] sizes = {{450, 40, 300}, {40, 100, 300}, {29, 37, 2100}, {13, 35, 70}};
        for (int[] sz : sizes) {
            for (boolean transA : new boolean[] {false, true}) {
                for (float beta : new float[] {0f, 1f}) {
                    sameBitsWithPathOff(sz[0], sz[1], sz[2], transA, beta, GemmTuning.DEFAULT.withDirectC(false),
                            "with the direct-C kernels", "through the tile");
                }
            }
        }
    }

    @Test
    void splitKGivesTheSlabModesBits() {
        // The split-k mode adds its k blocks to C in the serial order, so it must give the bits of the slab
        // mode the same sizes take without it: column slabs (n >= m) and row slabs, k with a short last
        // block, beta 0 and 1, an edge tile in each direction. The third size fills C's 2^18 elements.
        int[][] sizes = {{29, 37, 2100}, {200, 7, 1500}, {128, 2048, 1100}};
        for (int[] sz : sizes) {
            assertTrue(new CpuGemm(two, "vector").vector().splitsK(2, sz[0], sz[1], sz[2], true),
                    "split-k for m=" + sz[0] + " n=" + sz[1]);
            for (float beta : new float[] {0f, 1f}) {
                sameBitsWithPathOff(sz[0], sz[1], sz[2], true, beta, GemmTuning.DEFAULT.withSplitK(false),
                        "in the split-k mode", "in the slab mode");
            }
        }
    }

    @Test
    void wholeTransposedAGivesThePerBlockPackingsBits() {
        // In the shared-B mode's whole-k variant a transposed A is packed whole before the row blocks run
        // (packsWholeA), otherwise block by block; only where the packed values live differs, so the
        // bits must agree. m 600 and 1000 (shared-B with two threads), k with a short last k block, m not
        // a multiple of 6; beta 0 and 1.
        int[][] sizes = {{600, 40, 700}, {1000, 200, 300}, {583, 37, 1100}};
        for (int[] sz : sizes) {
            for (float beta : new float[] {0f, 1f}) {
                sameBitsWithPathOff(sz[0], sz[1], sz[2], true, beta, GemmTuning.DEFAULT.withPackWholeA(false),
                        "with A packed whole", "packed block by block");
            }
        }
    }

    // C = A B + beta C on seeded inputs with every VectorGemm path on (the default) and with one path off:
    // the two results must agree bit for bit, and the first must match the reference (check).
    private static void sameBitsWithPathOff(int m, int n, int k, boolean transA, float beta, GemmTuning pathOff,
                                            String onText, String offText) {
        CpuGemm gemm = new CpuGemm(two, "vector");
        CpuGemm without = new CpuGemm(two, "vector", pathOff);
        Tensor a = ref.allocate(transA ? Shape.of(k, m) : Shape.of(m, k));
        Tensor b = ref.allocate(Shape.of(k, n));
        Tensor c0 = ref.allocate(Shape.of(m, n)), c1 = ref.allocate(Shape.of(m, n));
        Rand.uniform(a, 7L * m + k, -1, 1);
        Rand.uniform(b, 11L * n + k, -1, 1);
        Rand.uniform(c0, 13L * m + n, -1, 1);
        ref.copy(c0, c1);
        gemm.gemm(transA, false, m, n, k, 1f, a, b, beta, c0);
        without.gemm(transA, false, m, n, k, 1f, a, b, beta, c1);
        assertSameBits("gemm m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " beta=" + beta, c0, onText, c1,
                offText);
        check(gemm, m, n, k, transA, false, 1f, beta);
    }

    @Test
    void concurrentCallersShareOneGemmSafely() throws Exception {
        // The packing buffers belong to the CpuGemm; two callers at once must not corrupt each other.
        CpuGemm gemm = new CpuGemm(two, "vector");
        Thread[] callers = new Thread[2];
        Throwable[] failure = new Throwable[2];
        for (int t = 0; t < callers.length; t++) {
            final int id = t;
            callers[t] = new Thread(() -> {
                try {
                    for (int rep = 0; rep < 3; rep++) {
                        check(gemm, 450 + 7 * id, 40 + id, 300, id == 1, false, 1f, 0f);
                    }
                } catch (Throwable e) {
                    failure[id] = e;
                }
            });
            callers[t].start();
        }
        for (int t = 0; t < callers.length; t++) {
            callers[t].join();
            if (failure[t] != null) {
                throw new AssertionError("caller " + t + " failed", failure[t]);
            }
        }
    }

    @Test
    void emptyAndZeroAlphaFollowBlas() {
        CpuGemm gemm = new CpuGemm(two, "vector");
        // k = 0 and alpha = 0: C = beta * C without reading A or B; beta = 0 clears NaN.
        check(gemm, 9, 11, 0, false, false, 1f, 0.5f);
        check(gemm, 9, 11, 6, false, false, 0f, 0f);
        check(gemm, 9, 11, 6, true, true, 0f, 2f);
    }

    @Test
    void rejectsBadArguments() {
        CpuGemm gemm = new CpuGemm(two, "vector");
        Tensor a = ref.allocate(Shape.of(3, 4)), b = ref.allocate(Shape.of(4, 5)), c = ref.allocate(Shape.of(3, 6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gemm.gemm(false, false, 3, 5, 4, 1f, a, b, 0f, c));
        assertTrue(e.getMessage().contains("gemm") && e.getMessage().contains("(3, 6)"), e.getMessage());
    }

    // x and y hold the same floats, bit for bit; else fails naming the first element that differs.
    private static void assertSameBits(String what, Tensor x, String xText, Tensor y, String yText) {
        for (long i = 0; i < x.numel(); i++) {
            if (Float.floatToRawIntBits(x.getFloat(i)) != Float.floatToRawIntBits(y.getFloat(i))) {
                throw new AssertionError(what + ": element " + i + " is " + x.getFloat(i) + " " + xText + ", "
                        + y.getFloat(i) + " " + yText);
            }
        }
    }

    private static void check(CpuGemm gemm, int m, int n, int k, boolean transA, boolean transB,
                              float alpha, float beta) {
        Tensor a = ref.allocate(transA ? Shape.of(k, m) : Shape.of(m, k));
        Tensor b = ref.allocate(transB ? Shape.of(n, k) : Shape.of(k, n));
        Tensor c = ref.allocate(Shape.of(m, n));
        Tensor expected = ref.allocate(Shape.of(m, n));
        long seed = 31L * m + 17L * n + k + (transA ? 1000 : 0) + (transB ? 2000 : 0);
        Rand.uniform(a, seed, -1, 1);
        Rand.uniform(b, seed + 1, -1, 1);
        if (beta == 0f) {
            ref.fill(c, Float.NaN); // must be ignored, not multiplied by zero
        } else {
            Rand.uniform(c, seed + 2, -1, 1);
        }
        ref.copy(c, expected);
        if (beta == 0f) {
            ref.zero(expected); // the reference ignores C too; start it from a clean slate anyway
        }
        ref.gemm(transA, transB, m, n, k, alpha, a, b, beta, expected);
        gemm.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
        String what = "gemm[" + gemm.provider() + "] m=" + m + " n=" + n + " k=" + k + " transA=" + transA
                + " transB=" + transB + " alpha=" + alpha + " beta=" + beta;
        TensorAssert.close(what, expected, c, GemmTesting.atol(k) * Math.max(1, Math.abs(alpha)), GemmTesting.RTOL);
        if (beta == 0f && m * n > 0) {
            assertFalse(Float.isNaN(c.getFloat(0)), what + ": NaN leaked from C with beta = 0");
        }
    }
}
