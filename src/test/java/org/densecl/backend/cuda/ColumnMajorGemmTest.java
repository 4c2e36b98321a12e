package org.densecl.backend.cuda;

import static org.densecl.backend.VsRef.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.api.Test;

/**
 * The row-major to column-major GEMM mapping, checked without a GPU: {@link #cublasGemm} executes a
 * cublasGemmEx call exactly as the cuBLAS documentation defines it (column-major, element (i, j) of an
 * operand at i + j * ld, op N or T), with the arguments {@link Cublas} passes; the result must be the
 * reference backend's row-major GEMM. A swapped operand, flag or leading dimension fails here.
 */
class ColumnMajorGemmTest {

    /**
     * C = alpha op(A) op(B) + beta C in cuBLAS's column-major semantics; A, B, C are flat arrays starting at
     * the given offsets (the strided-batched call is this with per-batch offsets).
     */
    static void cublasGemm(int opA, int opB, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                           float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = opA == ColumnMajorGemm.CUBLAS_OP_N ? a[offA + i + p * lda] : a[offA + p + i * lda];
                    float bv = opB == ColumnMajorGemm.CUBLAS_OP_N ? b[offB + p + j * ldb] : b[offB + j + p * ldb];
                    sum += (double) av * bv;
                }
                int at = offC + i + j * ldc;
                c[at] = (float) (alpha * sum + (beta == 0 ? 0 : beta * c[at]));
            }
        }
    }

    /** What Cublas.gemm hands cuBLAS for our row-major call, executed by the emulation. */
    static void viaCublas(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int offA,
                          float[] b, int offB, float beta, float[] c, int offC) {
        ColumnMajorGemm g = ColumnMajorGemm.of(transA, transB, m, n, k);
        // Cublas passes (first = B, second = A): the same order here.
        cublasGemm(g.opFirst(), g.opSecond(), g.m(), g.n(), g.k(), alpha, b, offB, g.ldFirst(), a, offA,
                g.ldSecond(), beta, c, offC, g.ldc());
    }

    @Test
    void everyTransposeCombinationMatchesTheReferenceGemm() {
        int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {3, 9, 11}, {16, 1, 33}, {1, 13, 4}};
        try (RefBackend ref = new RefBackend()) {
            long seed = 1;
            for (int[] s : sizes) {
                int m = s[0], n = s[1], k = s[2];
                for (boolean ta : new boolean[] {false, true}) {
                    for (boolean tb : new boolean[] {false, true}) {
                        Tensor a = ref.allocate(ta ? Shape.of(k, m) : Shape.of(m, k));
                        Tensor b = ref.allocate(tb ? Shape.of(n, k) : Shape.of(k, n));
                        Tensor c = ref.allocate(Shape.of(m, n));
                        Rand.uniform(a, seed++, -1, 1);
                        Rand.uniform(b, seed++, -1, 1);
                        Rand.uniform(c, seed++, -1, 1);
                        float[] ha = floats(a), hb = floats(b), hc = floats(c);
                        ref.gemm(ta, tb, m, n, k, 0.75f, a, b, 0.5f, c);
                        viaCublas(ta, tb, m, n, k, 0.75f, ha, 0, hb, 0, 0.5f, hc, 0);
                        // Both sum in double and round once: only the final f32 rounding differs.
                        TensorAssert.close("gemm " + (ta ? "T" : "N") + (tb ? "T" : "N") + " " + m + "x" + n + "x" + k,
                                TensorAssert.host(c), doubles(hc), 1e-6, 1e-6);
                    }
                }
            }
        }
    }

    @Test
    void stridedBatchesAreIndependentRowMajorGemms() {
        // denseMatch's call: Sim[i] = qb[i] (S2 x C) kb[i]^T for 3 images at strides S2*C and S2*S2.
        int batch = 3, s2 = 5, ch = 7;
        try (RefBackend ref = new RefBackend()) {
            Tensor q = ref.allocate(Shape.of(batch * s2, ch)), kk = ref.allocate(Shape.of(batch * s2, ch));
            Rand.uniform(q, 11, -1, 1);
            Rand.uniform(kk, 12, -1, 1);
            float[] hq = floats(q), hk = floats(kk), sim = new float[batch * s2 * s2];
            for (int i = 0; i < batch; i++) {
                viaCublas(false, true, s2, s2, ch, 1f, hq, i * s2 * ch, hk, i * s2 * ch, 0f, sim, i * s2 * s2);
            }
            for (int i = 0; i < batch; i++) {
                Tensor c = ref.allocate(Shape.of(s2, s2));
                ref.gemm(false, true, s2, s2, ch, 1f, q.slice((long) i * s2 * ch, Shape.of(s2, ch)),
                        kk.slice((long) i * s2 * ch, Shape.of(s2, ch)), 0f, c);
                double[] part = new double[s2 * s2];
                for (int j = 0; j < part.length; j++) {
                    part[j] = sim[i * s2 * s2 + j];
                }
                TensorAssert.close("batch " + i, TensorAssert.host(c), part, 1e-6, 1e-6);
            }
        }
    }

    /**
     * InfoNCE's two GEMMs on a block of columns: logits L (rows, 1 + K) with u queue^T written into columns
     * 1..K (ldc 1 + K, column 0 left alone), then dU += L[:, 1..K] queue read with lda 1 + K.
     */
    @Test
    void blocksOfColumnsOfAWiderMatrix() {
        int rows = 5, k = 7, d = 3, ldl = k + 1;
        try (RefBackend ref = new RefBackend()) {
            Tensor u = ref.allocate(Shape.of(rows, d)), q = ref.allocate(Shape.of(k, d));
            Tensor z = ref.allocate(Shape.of(rows, k)), du = ref.allocate(Shape.of(rows, d));
            Rand.uniform(u, 21, -1, 1);
            Rand.uniform(q, 22, -1, 1);
            ref.gemm(false, true, rows, k, d, 1f, u, q, 0f, z);
            float[] logits = new float[rows * ldl], dU = new float[rows * d];
            for (int r = 0; r < rows; r++) {
                logits[r * ldl] = 42f; // column 0: the positive logit, which the GEMM must not touch
            }
            ColumnMajorGemm g = ColumnMajorGemm.of(false, true, rows, k, d, d, d, ldl);
            cublasGemm(g.opFirst(), g.opSecond(), g.m(), g.n(), g.k(), 1f, floats(q), 0, g.ldFirst(), floats(u), 0,
                    g.ldSecond(), 0f, logits, 1, g.ldc());
            double[] block = new double[rows * k];
            for (int r = 0; r < rows; r++) {
                assertEquals(42f, logits[r * ldl], "column 0 of row " + r);
                for (int j = 0; j < k; j++) {
                    block[r * k + j] = logits[r * ldl + 1 + j];
                }
            }
            TensorAssert.close("L[:, 1..K] = u queue^T", TensorAssert.host(z), block, 1e-6, 1e-6);
            ref.gemm(false, false, rows, d, k, 1f, z, q, 0f, du);
            ColumnMajorGemm back = ColumnMajorGemm.of(false, false, rows, d, k, ldl, d, d);
            cublasGemm(back.opFirst(), back.opSecond(), back.m(), back.n(), back.k(), 1f, floats(q), 0, back.ldFirst(),
                    logits, 1, back.ldSecond(), 0f, dU, 0, back.ldc());
            TensorAssert.close("dU = L[:, 1..K] queue", TensorAssert.host(du), doubles(dU), 1e-6, 1e-6);
            assertThrows(IllegalArgumentException.class, () -> ColumnMajorGemm.of(false, true, rows, k, d, d, d, k - 1),
                    "ldc shorter than a row of C");
        }
    }

    @Test
    void leadingDimensionsAreTheRowLengthsOfTheStorage() {
        ColumnMajorGemm nn = ColumnMajorGemm.of(false, false, 4, 6, 5);
        assertEquals(new ColumnMajorGemm(true, 0, 0, 6, 4, 5, 6, 5, 6), nn);
        ColumnMajorGemm tt = ColumnMajorGemm.of(true, true, 4, 6, 5);
        assertEquals(new ColumnMajorGemm(true, 1, 1, 6, 4, 5, 5, 4, 6), tt);
        assertThrows(IllegalArgumentException.class, () -> ColumnMajorGemm.of(false, false, 0, 1, 1));
    }

    private static double[] doubles(float[] f) {
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }
}
