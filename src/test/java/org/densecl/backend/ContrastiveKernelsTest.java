package org.densecl.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.cpu.CpuBackend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DenseCL contrastive kernels on both host backends: the correspondence (denseMatch, denseGather)
 * against a brute-force computation written here, ties included, and the cpu InfoNCE loss against the
 * ref one on awkward sizes (rows across several 256-row blocks, K and D not multiples of the vector
 * width). The cpu backend runs 4 threads so its row splits have several parts even on 2 cores.
 */
class ContrastiveKernelsTest {
    private final RefBackend ref = new RefBackend();
    private final CpuBackend cpu = new CpuBackend(4, "vector");

    @AfterEach
    void close() {
        cpu.close();
        ref.close();
    }

    private Backend backend(String name) {
        return name.equals("ref") ? ref : cpu;
    }

    /** Uniform [-1, 1) rows, each then scaled to unit length (qb, kb, grids, queue keys are unit vectors). */
    private static Tensor unitRows(Backend b, long seed, int... dims) {
        Tensor t = b.allocate(Shape.of(dims));
        Rand.uniform(t, seed, -1, 1);
        int d = t.shape().last();
        for (long r = 0; r < t.numel() / d; r++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                s += t.get(r * d + c) * t.get(r * d + c);
            }
            for (int c = 0; c < d; c++) {
                t.set(r * d + c, t.get(r * d + c) / Math.sqrt(s));
            }
        }
        return t;
    }

    private static Tensor copyTo(Backend b, Tensor src) {
        Tensor t = b.allocate(src.dtype(), src.shape());
        for (long i = 0; i < src.numel(); i++) {
            t.set(i, src.get(i));
        }
        return t;
    }

    /** Sim[n, i, j] of the test's own brute force, in double. */
    private static double sim(Tensor qb, Tensor kb, int n, int i, int j) {
        int s2 = qb.shape().dim(1), c = qb.shape().dim(2);
        double s = 0;
        for (int ch = 0; ch < c; ch++) {
            s += qb.get(((long) n * s2 + i) * c + ch) * kb.get(((long) n * s2 + j) * c + ch);
        }
        return s;
    }

    /**
     * denseMatch against a brute-force argmax, then denseGather against the brute-force gather. Ties are
     * planted: in image 0 key location 5 duplicates key location 2 and query location 1 IS key 2, so both
     * are the (exact, equal) maximum and index 2 must win; in the last image all keys are one vector, so
     * every index must be 0. The backends compute Sim in their own order (ref in double, cpu in float
     * GEMM), so where a random (non-planted) row's index differs from the brute force, the two similarities
     * must agree within 1e-5: a float dot product of two unit vectors of C <= 2048 terms is off by at most
     * a few 1e-7, so a true mismatch (a wrong argmax) is far larger for random data.
     */
    @ParameterizedTest(name = "{0} N={1} S2={2} C={3}")
    @CsvSource({"ref, 3, 10, 37", "cpu, 3, 10, 37", "cpu, 3, 49, 37", "ref, 3, 49, 37", "cpu, 2, 49, 2048",
            "ref, 2, 10, 2048", "cpu, 1, 1, 5"})
    void correspondenceMatchesBruteForce(String name, int n, int s2, int c) {
        Backend b = backend(name);
        Tensor qb = unitRows(b, 41, n, s2, c), kb = unitRows(b, 42, n, s2, c);
        int last = n - 1;
        if (s2 > 5) {
            for (int ch = 0; ch < c; ch++) {
                kb.set(5L * c + ch, kb.get(2L * c + ch));
                qb.set(1L * c + ch, kb.get(2L * c + ch));
            }
        }
        if (last > 0) {
            for (int j = 1; j < s2; j++) {
                for (int ch = 0; ch < c; ch++) {
                    kb.set(((long) last * s2 + j) * c + ch, kb.get((long) last * s2 * c + ch));
                }
            }
        }
        Tensor idx = b.allocate(DType.I32, Shape.of(n, s2));
        for (long i = 0; i < idx.numel(); i++) {
            idx.setInt(i, -1); // so an index the op forgot to write shows
        }
        b.denseMatch(qb, kb, idx);
        String op = "denseMatch " + name + " qb (" + n + ", " + s2 + ", " + c + ")";
        for (int img = 0; img < n; img++) {
            for (int i = 0; i < s2; i++) {
                int want = 0;
                for (int j = 1; j < s2; j++) {
                    if (sim(qb, kb, img, i, j) > sim(qb, kb, img, i, want)) { // strict: first index on ties
                        want = j;
                    }
                }
                int got = idx.getInt((long) img * s2 + i);
                boolean planted = (img == 0 && i == 1 && s2 > 5) || (img == last && last > 0);
                if (planted || name.equals("ref")) {
                    assertEquals(want, got, op + ": index at (" + img + ", " + i + ")");
                } else if (got != want) {
                    assertTrue(got >= 0 && got < s2, op + ": index " + got + " out of range");
                    double gap = sim(qb, kb, img, i, want) - sim(qb, kb, img, i, got);
                    assertTrue(gap <= 1e-5, op + ": at (" + img + ", " + i + ") chose " + got + " but " + want
                            + " is better by " + gap);
                }
            }
        }
        if (s2 > 5) {
            assertEquals(2, idx.getInt(1), op + ": tie between key 2 and key 5 must go to the first");
        }

        int d = 13;
        Tensor grid = unitRows(b, 43, n, s2, d), out = b.allocate(Shape.of(n, s2, d));
        b.fill(out, Float.NaN);
        b.denseGather(grid, idx, out);
        for (int img = 0; img < n; img++) {
            for (int i = 0; i < s2; i++) {
                int j = idx.getInt((long) img * s2 + i);
                for (int ch = 0; ch < d; ch++) {
                    assertEquals(grid.get(((long) img * s2 + j) * d + ch), out.get(((long) img * s2 + i) * d + ch),
                            0.0, "denseGather " + name + " grid (" + n + ", " + s2 + ", " + d + ") at (" + img + ", "
                                    + i + ", " + ch + ")");
                }
            }
        }
    }

    /** An index outside [0, S2) is a user-visible error naming the index, not a silent read elsewhere. */
    @ParameterizedTest
    @ValueSource(strings = {"ref", "cpu"})
    void gatherRejectsOutOfRangeIndex(String name) {
        Backend b = backend(name);
        Tensor grid = b.allocate(Shape.of(2, 4, 3)), out = b.allocate(Shape.of(2, 4, 3));
        Tensor idx = b.allocate(DType.I32, Shape.of(2, 4));
        idx.setInt(6, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.denseGather(grid, idx, out));
        assertTrue(e.getMessage().contains("indices[1, 2] = 4"), e.getMessage());
    }

    /** Shape mismatches throw and name the op and the argument. */
    @ParameterizedTest
    @ValueSource(strings = {"ref", "cpu"})
    void shapeMismatchesNameOpAndArgument(String name) {
        Backend b = backend(name);
        Tensor u = b.allocate(Shape.of(5, 8)), queue = b.allocate(Shape.of(7, 9)), loss = b.allocate(Shape.of(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.infoNceLoss(u, u, queue, 0.2f, 1f, loss, null));
        assertTrue(e.getMessage().startsWith("infoNceLoss: queue"), e.getMessage());
        Tensor qb = b.allocate(Shape.of(2, 9, 4)), kb = b.allocate(Shape.of(2, 4, 9));
        Tensor idx = b.allocate(DType.I32, Shape.of(2, 9));
        e = assertThrows(IllegalArgumentException.class, () -> b.denseMatch(qb, kb, idx));
        assertTrue(e.getMessage().startsWith("denseMatch: kb"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.infoNceLoss(u, u, b.allocate(Shape.of(7, 8)), 0f,
                1f, loss, null));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
    }

    /**
     * cpu vs ref InfoNCE: loss and accumulated dAnchors (onto a random prior), and the loss-only call.
     * R = 300 spans two 256-row blocks with a ragged last block; 147 = 3 x 49 dense rows; 3 global rows.
     * Tolerances: the cpu logits are float dot products (D <= 128 terms of unit vectors, error ~1e-7) divided
     * by tau, so each logit is off by ~1e-6 at tau = 0.2 and each row CE (about log K <= 9) by a few 1e-7
     * relative; the loss is w * sum of rows with w = 1/R, stored as a float (rounding 5e-7 at 8), hence
     * atol 1e-6, rtol 1e-5 (measured: equal after float rounding). dAnchors entries have the scale w / tau
     * (sums of K probabilities times unit-vector entries); measured max |cpu - ref| = 4.4e-7 * w / tau, so
     * atol 4e-6 * w / tau and rtol 1e-5 leave a 10x margin, while a dropped term or a wrong factor moves
     * entries by 1e-2 * w / tau or more.
     */
    @ParameterizedTest(name = "R={0} K={1} D={2}")
    @CsvSource({"300, 1000, 13", "147, 4099, 128", "3, 4099, 128", "257, 9, 16"})
    void infoNceCpuMatchesRef(int r, int k, int d) {
        float tau = 0.2f, w = 1f / r;
        Tensor uRef = unitRows(ref, 51, r, d), posRef = unitRows(ref, 52, r, d), qRef = unitRows(ref, 53, k, d);
        Tensor duRef = ref.allocate(Shape.of(r, d));
        Rand.uniform(duRef, 54, -w / tau, w / tau); // a prior of the gradient's own scale, to see accumulation
        Tensor u = copyTo(cpu, uRef), pos = copyTo(cpu, posRef), q = copyTo(cpu, qRef), du = copyTo(cpu, duRef);
        Tensor lossRef = ref.allocate(Shape.of(1)), loss = cpu.allocate(Shape.of(1));
        Tensor lossOnly = cpu.allocate(Shape.of(1));
        ref.infoNceLoss(uRef, posRef, qRef, tau, w, lossRef, duRef);
        cpu.infoNceLoss(u, pos, q, tau, w, loss, du);
        cpu.infoNceLoss(u, pos, q, tau, w, lossOnly, null);
        String what = "infoNceLoss cpu vs ref anchors (" + r + ", " + d + ") queue (" + k + ", " + d + ")";
        TensorAssert.close(what + " loss", lossRef, loss, 1e-6, 1e-5);
        assertEquals(loss.get(0), lossOnly.get(0), 0.0, what + ": the loss-only call must give the same loss");
        TensorAssert.close(what + " dAnchors", duRef, du, 4e-6 * w / tau, 1e-5);
    }

    /**
     * The cpu InfoNCE loss and gradient have the same bits for 1 and 4 threads and for a repeated call:
     * every row is computed alone and the rows' losses are added in row order, so a training run does not
     * depend on the core count. R = 300 gives two row blocks, K = 1003 and D = 37 ragged vector tails.
     */
    @ParameterizedTest(name = "R={0} K={1} D={2}")
    @CsvSource({"300, 1003, 37", "5, 70, 128"})
    void infoNceCpuBitsDoNotDependOnThreads(int r, int k, int d) {
        float tau = 0.07f, w = 1f / r;
        try (CpuBackend one = new CpuBackend(1, "vector")) {
            Tensor u = unitRows(cpu, 61, r, d), pos = unitRows(cpu, 62, r, d), q = unitRows(cpu, 63, k, d);
            Tensor u1 = copyTo(one, u), pos1 = copyTo(one, pos), q1 = copyTo(one, q);
            Tensor du = cpu.allocate(Shape.of(r, d)), du1 = one.allocate(Shape.of(r, d));
            Tensor again = cpu.allocate(Shape.of(r, d));
            Tensor loss = cpu.allocate(Shape.of(1)), loss1 = one.allocate(Shape.of(1));
            Tensor lossAgain = cpu.allocate(Shape.of(1));
            cpu.infoNceLoss(u, pos, q, tau, w, loss, du);
            one.infoNceLoss(u1, pos1, q1, tau, w, loss1, du1);
            cpu.infoNceLoss(u, pos, q, tau, w, lossAgain, again);
            String what = "infoNceLoss cpu anchors (" + r + ", " + d + ") queue (" + k + ", " + d + ")";
            assertEquals(loss1.get(0), loss.get(0), 0.0, what + ": loss with 4 threads vs 1 thread");
            assertEquals(loss.get(0), lossAgain.get(0), 0.0, what + ": a repeated call must give the same loss");
            for (long i = 0; i < du.numel(); i++) {
                assertEquals(du1.get(i), du.get(i), 0.0, what + ": dAnchors[" + i + "] with 4 threads vs 1 thread");
                assertEquals(du.get(i), again.get(i), 0.0, what + ": dAnchors[" + i + "] of a repeated call");
            }
        }
    }
}
