package org.densecl.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One DenseCL loss step against PyTorch 1.13 running the original algorithm (fixture densecl_loss, from
 * src/test/python/make_densecl_fixtures.py: D x K column queues, (N, C, S2) maps, max(dim=2), gather,
 * nn.CrossEntropyLoss): the correspondence indices, the matched keys, both head losses and the gradients
 * of q and q_grid, through denseMatch, denseGather and infoNceLoss (weight 1, then divided by the row
 * count in double: the mean).
 * N = 3, S2 = 9, C = 37, D = 13, K = 19, tau = float32(0.2).
 *
 * <p>Tolerances. Indices must be equal (random unit vectors: the best and second-best similarity differ by
 * far more than float error) and the gather is a copy of F32 values, so exact. F64 (ref): the same
 * formulas in double, ~1e-15 relative; 1e-12. F32: logits are float dot products of 13 terms / 0.2, off by
 * ~1e-6; losses (~3) to a few 1e-7 relative, rtol 1e-5 with atol 1e-6; gradients have the scale
 * w / tau = 1/(0.2 * 27) = 0.19 (dense) or 1.7 (global) and float error ~1e-7 of it: atol 1e-6, rtol 1e-5.
 * Measured (-Dparity.verbose=true): F64 max |diff| 4e-16; F32 cpu 2.5e-7 (loss) and 1.2e-7 (dq).
 */
class DenseClParityTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"ref, F64", "ref, F32", "cpu, F32"})
    void matchesPyTorch(String backend, DType dtype) {
        try (Fixture fx = Fixture.open("densecl_loss");
             Backend be = backend.equals("ref") ? new RefBackend() : new CpuBackend(4, "vector")) {
            double atol = dtype == DType.F64 ? 1e-12 : 1e-6, rtol = dtype == DType.F64 ? 1e-12 : 1e-5;
            float tau = fx.metaFloat("temperature");
            int n = fx.metaInt("n"), s2 = fx.metaInt("s2"), d = fx.metaInt("d");

            // Global head: rows are images.
            Tensor q = fx.load(be, dtype, "q"), k = fx.load(be, dtype, "k"); // (N, D)
            Tensor queue = fx.load(be, dtype, "queue");                      // (K, D)
            Tensor loss = be.allocate(dtype, Shape.of(1)), dq = be.allocate(dtype, Shape.of(n, d));
            be.infoNceLoss(q, k, queue, tau, 1f, loss, dq);
            mean(loss, n);
            mean(dq, n);
            fx.check(be, "infoNceLoss global", "loss_global", loss, atol, rtol);
            fx.check(be, "infoNceLoss global", "dq", dq, atol, rtol);

            // Dense head: correspondence, gather, then rows n * S2 + i.
            Tensor qb = fx.load(be, dtype, "qb"), kb = fx.load(be, dtype, "kb");     // (N, S2, C)
            Tensor idx = be.allocate(DType.I32, Shape.of(n, s2));                    // (N, S2)
            be.denseMatch(qb, kb, idx);
            Tensor want = fx.load(be, DType.I32, "indices");
            for (long i = 0; i < idx.numel(); i++) {
                assertEquals(want.getInt(i), idx.getInt(i), "densecl_loss: denseMatch (" + be.name() + ", " + dtype
                        + ") qb " + qb.shape() + " index " + i);
            }
            Tensor kGrid = fx.load(be, dtype, "k_grid"), matched = be.allocate(dtype, Shape.of(n, s2, d));
            be.denseGather(kGrid, idx, matched);
            fx.check(be, "denseGather", "k_matched", matched, 0, 0);
            Tensor qGrid = fx.load(be, dtype, "q_grid"), dqGrid = be.allocate(dtype, Shape.of(n, s2, d));
            be.infoNceLoss(qGrid.view(n * s2, d), matched.view(n * s2, d), fx.load(be, dtype, "queue2"), tau,
                    1f, loss, dqGrid.view(n * s2, d));
            mean(loss, n * s2);
            mean(dqGrid, n * s2);
            fx.check(be, "infoNceLoss dense", "loss_dense", loss, atol, rtol);
            fx.check(be, "infoNceLoss dense", "dq_grid", dqGrid, atol, rtol);
        }
    }

    /** t /= rows in double: the op's float weight 1/3 would be off by 3e-8 relative, above F64's 1e-12. */
    private static void mean(Tensor t, int rows) {
        for (long i = 0; i < t.numel(); i++) {
            t.set(i, t.get(i) / rows);
        }
    }
}
