package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.densecl.backend.DropoutMask;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every kernel against the ref backend on small tensors, through the CudaKernels launch methods. Skips,
 * printing the reason, where no CUDA device loads.
 *
 * <p>Tolerances: f32 kernels against a double oracle. Elementwise ops round once like the ref (atol 1e-6);
 * reductions over up to a few thousand terms in f32 (BN, pooling, losses, L2) get atol 1e-5, rtol 1e-4;
 * InfoNCE sums exp over 257 logits in f32 (rtol 1e-4).
 */
class CudaKernelsGpuTest {
    private GpuVsRef g;

    @BeforeEach
    void setUp() {
        g = harness();
    }

    /**
     * The device the tests run on: the GPU (skipping, with the reason printed, where none loads) with the
     * default launch cap. Subclasses run every test again with a tiny cap, or on the CPU emulator.
     */
    GpuVsRef harness() {
        GpuTests.assumeDevice();
        return new GpuVsRef(CudaDriver.load(), CudaKernels.DEFAULT_MAX_GRID);
    }

    @AfterEach
    void tearDown() {
        if (g != null) {
            g.close();
        }
    }

    @Test
    void elementwise() {
        Tensor a = g.uniform(1, -1, 1, 3, 5, 7), b = g.uniform(2, -1, 1, 3, 5, 7);
        long n = a.numel();
        long da = g.dev(a), db = g.dev(b), dy = g.scratch(4 * n);
        Tensor want = g.zeros(3, 5, 7);
        g.ref.addRelu(a, b, want);
        g.k.addRelu(g.stream, da, db, dy, n);
        g.assertClose("addRelu", want, dy, 0, 0);
        Tensor sum = g.zeros(3, 5, 7), relu = g.zeros(3, 5, 7);
        long dsum = g.scratch(4 * n);
        g.ref.add(a, b, sum);
        g.ref.reluForward(sum, relu);
        g.k.add(g.stream, da, db, dsum, n);
        g.assertClose("add", sum, dsum, 0, 0);
        g.k.reluForward(g.stream, dsum, dsum, n); // in place, as the contract allows
        g.assertClose("reluForward", relu, dsum, 0, 0);

        Tensor dx = g.uniform(3, -1, 1, 3, 5, 7), dxWant = g.copy(dx);
        long ddx = g.dev(dx);
        g.ref.reluBackward(want, b, dxWant);
        g.k.reluBackward(g.stream, dy, db, ddx, n, true);
        g.assertClose("reluBackward accumulate", dxWant, ddx, 1e-6, 0);
        Tensor assigned = g.zeros(3, 5, 7);
        g.ref.reluBackward(want, b, assigned);
        g.k.reluBackward(g.stream, dy, db, ddx, n, false);
        g.assertClose("reluBackward assign", assigned, ddx, 0, 0);

        g.ref.axpy(0.3f, a, b);
        g.k.axpy(g.stream, da, db, n, 0.3f);
        g.assertClose("axpy", b, db, 1e-6, 0);
        g.ref.scale(a, -2.5f);
        g.k.scale(g.stream, da, n, -2.5f);
        g.assertClose("scale", a, da, 0, 0);

        Tensor bias = g.uniform(4, -1, 1, 7);
        g.ref.biasAdd(b, bias);
        g.k.biasAdd(g.stream, db, g.dev(bias), 15, 7);
        g.assertClose("biasAdd", b, db, 1e-6, 0);

        Tensor dst = g.uniform(5, -1, 1, 3, 5, 4);
        long ddst = g.dev(dst);
        g.ref.copyChannels(b, 2, dst, 1, 3, true);
        g.k.copyChannels(g.stream, db, 7, 2, ddst, 4, 1, 15, 3, true);
        g.assertClose("copyChannels accumulate", dst, ddst, 1e-6, 0);
        g.ref.copyChannels(b, 0, dst, 0, 4, false);
        g.k.copyChannels(g.stream, db, 7, 0, ddst, 4, 0, 15, 4, false);
        g.assertClose("copyChannels assign", dst, ddst, 0, 0);
    }

    @Test
    void dropoutMaskAndApply() {
        Tensor x = g.uniform(6, -1, 1, 2, 3, 3, 5), y = g.zeros(2, 3, 3, 5), mask = g.zeros(2, 5);
        g.ref.dropout2dForward(x, 0.4f, 99L, mask, y);
        long dmask = g.scratch(4 * 10), dy = g.scratch(4 * x.numel());
        g.k.dropoutMask(g.stream, dmask, 2, 5, 99L, 0.4f);
        g.k.dropoutApply(g.stream, g.dev(x), dmask, dy, 2, 9, 5, false);
        g.assertClose("dropout mask", mask, dmask, 0, 0);
        g.assertClose("dropout apply", y, dy, 0, 0);
        Tensor gx = g.uniform(7, -1, 1, 2, 3, 3, 5);
        long dgx = g.dev(gx);
        g.ref.dropout2dBackward(mask, x, gx);
        g.k.dropoutApply(g.stream, g.dev(x), dmask, dgx, 2, 9, 5, true);
        g.assertClose("dropout backward (accumulate)", gx, dgx, 1e-6, 0);
        assertEquals(DropoutMask.scale(99L, 1, 4, 0.4f), g.host(dmask, mask).getFloat(9));
    }

    @Test
    void biasBackwardAndBatchNorm() {
        int rows = 2 * 9 * 11, c = 37; // more than one column tile, a partial last tile
        Tensor x = g.uniform(7, 2, 5, 2, 9, 11, c), dyT = g.uniform(8, -1, 1, 2, 9, 11, c);
        long dx = g.dev(x), ddy = g.dev(dyT);
        long ws = g.scratch(CudaKernels.columnWorkspaceBytes(rows, c));
        Tensor db = g.uniform(9, -1, 1, c);
        long ddb = g.dev(db);
        g.ref.biasBackward(dyT, db);
        g.k.biasBackward(g.stream, ddy, ddb, rows, c, ws);
        g.assertClose("biasBackward", db, ddb, 1e-5, 1e-5);

        Tensor gamma = g.uniform(10, 0.5, 1.5, c), beta = g.uniform(11, -0.5, 0.5, c);
        Tensor rm = g.uniform(12, -1, 1, c), rv = g.uniform(13, 0.5, 2, c);
        long dgamma = g.dev(gamma), dbeta = g.dev(beta), drm = g.dev(rm), drv = g.dev(rv);
        Tensor mean = g.zeros(c), inv = g.zeros(c), y = g.zeros(2, 9, 11, c);
        long dmean = g.scratch(4 * c), dinv = g.scratch(4 * c), dyOut = g.scratch(4 * x.numel());
        g.ref.batchNormTrainForward(x, gamma, beta, 0.1f, 1e-5f, rm, rv, mean, inv, y, true);
        g.k.batchNormStats(g.stream, dx, rows, c, 0.1f, 1e-5f, drm, drv, dmean, dinv, ws);
        g.k.batchNormApply(g.stream, dx, rows, c, dmean, dinv, dgamma, dbeta, 0, dyOut, true);
        g.assertClose("bn saveMean", mean, dmean, 1e-5, 1e-5);
        g.assertClose("bn saveInvStd", inv, dinv, 1e-5, 1e-4);
        g.assertClose("bn runningMean", rm, drm, 1e-5, 1e-5);
        g.assertClose("bn runningVar", rv, drv, 1e-5, 1e-4);
        g.assertClose("bn y (relu)", y, dyOut, 1e-5, 1e-4);

        Tensor dxT = g.uniform(14, -1, 1, 2, 9, 11, c), dgT = g.uniform(15, -1, 1, c), dbT = g.uniform(16, -1, 1, c);
        long ddx = g.dev(dxT), ddg = g.dev(dgT), ddbeta = g.dev(dbT);
        g.ref.batchNormBackward(x, dyT, gamma, mean, inv, y, true, dxT, dgT, dbT, false);
        g.k.batchNormBackward(g.stream, dx, ddy, dyOut, rows, c, dgamma, dmean, dinv, true, ddx, false, ddg, ddbeta, ws);
        g.assertClose("bn dx (relu, assign)", dxT, ddx, 1e-5, 1e-4);
        g.assertClose("bn dgamma", dgT, ddg, 1e-4, 1e-4);
        g.assertClose("bn dbeta", dbT, ddbeta, 1e-4, 1e-4);
        g.ref.batchNormBackward(x, dyT, gamma, mean, inv, null, false, dxT, dgT, dbT, true);
        g.k.batchNormBackward(g.stream, dx, ddy, 0, rows, c, dgamma, dmean, dinv, false, ddx, true, ddg, ddbeta, ws);
        g.assertClose("bn dx (no relu, accumulate)", dxT, ddx, 1e-5, 1e-4);
        g.assertClose("bn dgamma (no relu)", dgT, ddg, 1e-4, 1e-4);

        Tensor residual = g.uniform(17, -3, 3, 2, 9, 11, c), joined = g.zeros(2, 9, 11, c);
        g.ref.batchNormTrainForwardAddRelu(x, gamma, beta, 0.1f, 1e-5f, g.copy(rm), g.copy(rv), g.zeros(c),
                g.zeros(c), residual, joined);
        g.k.batchNormApply(g.stream, dx, rows, c, dmean, dinv, dgamma, dbeta, g.dev(residual), dyOut, false);
        g.assertClose("bn add+relu join", joined, dyOut, 1e-5, 1e-4);

        Tensor inf = g.zeros(2, 9, 11, c);
        g.ref.batchNormInferenceForward(x, gamma, beta, rm, rv, 1e-5f, inf, false);
        g.k.batchNormInference(g.stream, dx, rows, c, dgamma, dbeta, drm, drv, 1e-5f, dyOut, false);
        g.assertClose("bn inference", inf, dyOut, 1e-5, 1e-4);
    }

    @Test
    void pooling() {
        PoolGeometry pg = PoolGeometry.resnetStem(2, 9, 8, 5);
        Tensor x = g.uniform(20, -1, 1, 2, 9, 8, 5);
        x.setFloat(7, x.getFloat(12)); // a tie inside a window
        long dxp = g.dev(x);
        Tensor y = g.zeros(2, pg.p(), pg.q(), 5);
        long dy = g.scratch(4 * y.numel());
        g.ref.maxPoolForward(pg, x, y);
        g.k.maxPoolForward(g.stream, dxp, dy, pg);
        g.assertClose("maxPool forward", y, dy, 0, 0);
        Tensor gy = g.uniform(21, -1, 1, 2, pg.p(), pg.q(), 5), gx = g.uniform(22, -1, 1, 2, 9, 8, 5);
        long dgx = g.dev(gx);
        g.ref.maxPoolBackward(pg, x, y, gy, gx);
        g.k.maxPoolBackward(g.stream, dxp, g.dev(gy), dgx, pg);
        g.assertClose("maxPool backward", gx, dgx, 1e-6, 1e-6);

        Tensor avg = g.zeros(2, 5);
        long davg = g.scratch(40);
        g.ref.globalAvgPoolForward(x, avg);
        g.k.globalAvgPoolForward(g.stream, dxp, davg, 2, 72, 5);
        g.assertClose("globalAvgPool forward", avg, davg, 1e-6, 1e-6);
        g.ref.globalAvgPoolBackward(avg, gx);
        g.k.globalAvgPoolBackward(g.stream, davg, dgx, 2, 72, 5);
        g.assertClose("globalAvgPool backward", gx, dgx, 1e-6, 1e-5);

        Tensor ad = g.zeros(2, 4, 3, 5);
        long dad = g.scratch(4 * ad.numel());
        g.ref.adaptiveAvgPoolForward(x, ad);
        g.k.adaptiveAvgPoolForward(g.stream, dxp, dad, 2, 9, 8, 5, 4, 3);
        g.assertClose("adaptiveAvgPool forward", ad, dad, 1e-6, 1e-5);
        g.ref.adaptiveAvgPoolBackward(ad, gx);
        g.k.adaptiveAvgPoolBackward(g.stream, dad, dgx, 2, 9, 8, 5, 4, 3);
        g.assertClose("adaptiveAvgPool backward", gx, dgx, 1e-6, 1e-5);
    }

    /**
     * The bf16 casts bit for bit against {@link Bf16Reference}: zeros, NaNs (quiet, signalling, negative,
     * with payloads), infinities, the largest finite floats (rounding up to infinity), normal and subnormal
     * ties both ways, values just off a tie, and random bit patterns; then back to f32 exactly, and added.
     */
    @Test
    void bf16CastsRoundToNearestEvenBitForBit() {
        int[] special = {0, 0x80000000, 0x3F800000, 0xBF800000, 0x7FC00000, 0x7FC00001, 0xFFFFFFFF, 0x7F800001,
            0x7F800000, 0xFF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F7FFF, 0x7F7F8000, 0x7F7E8000,
            0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF, 0xBF818000, 0x00800000, 0x00000001, 0x80000001,
            0x00008000, 0x00018000, 0x007F8000, 0x007FFFFF, 0x807FFFFF, 0x00017FFF, 0x00008001};
        int n = special.length + 4001;
        Tensor in = g.ref.allocate(DType.I32, Shape.of(n));
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(90);
        for (int i = 0; i < n; i++) {
            in.setInt(i, i < special.length ? special[i] : rnd.nextInt());
        }
        long src = g.dev(in), half = g.scratch(2L * n);
        g.k.castToBf16(g.stream, src, half, n);
        Tensor got = g.host(half, g.ref.allocate(DType.I32, Shape.of((n + 1) / 2)));
        Tensor back = g.ref.allocate(DType.I32, Shape.of(n));
        long wide = g.scratch(4L * n);
        g.k.castToF32(g.stream, half, wide, n, false);
        Tensor exact = g.host(wide, back);
        for (int i = 0; i < n; i++) {
            short want = Bf16Reference.round(Float.intBitsToFloat(in.getInt(i)));
            short have = (short) (got.getInt(i / 2) >>> (16 * (i % 2))); // little-endian pairs
            assertEquals(Integer.toHexString(want & 0xFFFF), Integer.toHexString(have & 0xFFFF),
                    "bf16 of 0x" + Integer.toHexString(in.getInt(i)));
            assertEquals((want & 0xFFFF) << 16, exact.getInt(i), "f32 of bf16 0x" + Integer.toHexString(want & 0xFFFF));
        }
        Tensor base = g.uniform(91, -4, 4, n);
        long acc = g.dev(base);
        g.k.castToF32(g.stream, half, acc, n, true);
        Tensor sum = g.host(acc, base);
        for (int i = 0; i < n; i++) {
            float want = base.getFloat(i) + Bf16Reference.value(Bf16Reference.round(Float.intBitsToFloat(in.getInt(i))));
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(sum.getFloat(i)), "accumulate at " + i);
        }
    }

    @Test
    void bilinearResizeBothAlignments() {
        for (boolean align : new boolean[] {false, true}) {
            Tensor x = g.uniform(30, -1, 1, 2, 5, 7, 3), y = g.zeros(2, 11, 4, 3);
            long dx = g.dev(x), dy = g.scratch(4 * y.numel());
            g.ref.resizeBilinearForward(x, y, align);
            g.k.resizeBilinearForward(g.stream, dx, dy, 2, 5, 7, 3, 11, 4, align);
            g.assertClose("resize forward align=" + align, y, dy, 1e-6, 1e-5);
            Tensor gx = g.uniform(31, -1, 1, 2, 5, 7, 3);
            long dgx = g.dev(gx);
            g.ref.resizeBilinearBackward(y, gx, align);
            g.k.resizeBilinearBackward(g.stream, dy, dgx, 2, 5, 7, 3, 11, 4, align);
            g.assertClose("resize backward align=" + align, gx, dgx, 1e-5, 1e-5);
        }
    }

    @Test
    void crossEntropyWithIgnoreAndBadLabel() {
        int m = 700, c = 5, ignore = 255;
        Tensor logits = g.uniform(40, -4, 4, m, c), labels = g.labels(41, c, ignore, 0.2, m);
        long dl = g.dev(logits), dlab = g.dev(labels), ws = g.scratch(CudaKernels.crossEntropyWorkspaceBytes(m));
        long record = g.noError();
        for (boolean avg : new boolean[] {false, true}) {
            Tensor probs = g.zeros(m, c), loss = g.zeros(1), grad = g.uniform(42, -1, 1, m, c);
            long dprobs = g.scratch(4L * m * c), dloss = g.scratch(4), dgrad = g.dev(grad);
            g.ref.softmaxCrossEntropyForward(logits, labels, ignore, avg, probs, loss);
            g.k.softmaxCrossEntropyForward(g.stream, dl, dlab, m, c, ignore, avg, dprobs, dloss, ws, record);
            g.k.throwIfBadLabel(g.stream, "softmaxCrossEntropyForward", record, c, ignore);
            g.assertClose("ce probs avg=" + avg, probs, dprobs, 1e-6, 1e-5);
            g.assertClose("ce loss avg=" + avg, loss, dloss, 1e-6, 1e-5);
            g.ref.softmaxCrossEntropyBackward(probs, labels, ignore, avg, 0.7f, grad);
            g.k.softmaxCrossEntropyBackward(g.stream, dprobs, dlab, m, c, ignore, avg, 0.7f, dgrad, ws);
            g.assertClose("ce backward avg=" + avg, grad, dgrad, 1e-6, 1e-5);
        }
        labels.setInt(123, 7);
        labels.setInt(400, -3);
        long bad = g.dev(labels);
        IllegalArgumentException want = assertThrows(IllegalArgumentException.class, () -> g.ref
                .softmaxCrossEntropyForward(logits, labels, ignore, true, g.zeros(m, c), g.zeros(1)));
        g.k.softmaxCrossEntropyForward(g.stream, dl, bad, m, c, ignore, true, g.scratch(4L * m * c), g.scratch(4), ws,
                record);
        IllegalArgumentException got = assertThrows(IllegalArgumentException.class,
                () -> g.k.throwIfBadLabel(g.stream, "softmaxCrossEntropyForward", record, c, ignore));
        assertEquals(want.getMessage(), got.getMessage());
    }

    @Test
    void l2NormalizeWithASmallRow() {
        Tensor x = g.uniform(50, -1, 1, 20, 70);
        for (int j = 0; j < 70; j++) {
            x.setFloat(3 * 70 + j, 1e-9f);
        }
        Tensor y = g.zeros(20, 70), norms = g.zeros(20);
        long dx = g.dev(x), dy = g.scratch(4 * 1400), dn = g.scratch(80);
        g.ref.l2NormalizeForward(x, 1e-6f, y, norms);
        g.k.l2NormalizeForward(g.stream, dx, dy, dn, 20, 70, 1e-6f);
        g.assertClose("l2 forward", y, dy, 1e-6, 1e-5);
        g.assertClose("l2 norms", norms, dn, 1e-6, 1e-5);
        Tensor up = g.uniform(51, -1, 1, 20, 70), gx = g.uniform(52, -1, 1, 20, 70);
        long dgx = g.dev(gx);
        g.ref.l2NormalizeBackward(y, norms, 1e-6f, up, gx);
        g.k.l2NormalizeBackward(g.stream, dy, dn, g.dev(up), dgx, 20, 70, 1e-6f);
        g.assertClose("l2 backward", gx, dgx, 1e-4, 1e-5);
    }

    @Test
    void denseMatchArgmaxTiesNanAndGather() {
        int s2 = 40;
        Tensor sim = g.uniform(60, -1, 1, 3, s2, s2);
        sim.setFloat(5, 2f);             // row 0: a tie at 5 and 37, the first wins
        sim.setFloat(37, 2f);
        for (int j = 0; j < s2; j++) {
            sim.setFloat(s2 + j, Float.NaN); // row 1: all NaN gives 0
        }
        sim.setFloat(2 * s2 + 3, Float.NaN); // row 2: NaN never wins
        sim.setFloat(2 * s2 + 9, 5f);
        long idx = g.scratch(4L * 3 * s2);
        g.k.denseMatchArgmax(g.stream, g.dev(sim), idx, 3L * s2, s2);
        Tensor got = g.host(idx, g.ref.allocate(DType.I32, Shape.of(3, s2)));
        assertEquals(5, got.getInt(0));
        assertEquals(0, got.getInt(1));
        assertEquals(9, got.getInt(2));
        for (int r = 3; r < 3 * s2; r++) {
            int best = 0;
            for (int j = 1; j < s2; j++) {
                best = sim.getFloat((long) r * s2 + j) > sim.getFloat((long) r * s2 + best) ? j : best;
            }
            assertEquals(best, got.getInt(r), "row " + r);
        }

        Tensor grid = g.uniform(61, -1, 1, 3, s2, 6), out = g.zeros(3, s2, 6);
        long dgrid = g.dev(grid), dout = g.scratch(4 * out.numel()), bad = g.noError();
        g.ref.denseGather(grid, got, out);
        g.k.denseGather(g.stream, dgrid, idx, dout, 3, s2, 6, bad);
        g.k.throwIfBadIndex(g.stream, bad, s2, grid.shape().toString());
        g.assertClose("denseGather", out, dout, 0, 0);
        got.setInt(50, s2);
        IllegalArgumentException want = assertThrows(IllegalArgumentException.class,
                () -> g.ref.denseGather(grid, got, g.zeros(3, s2, 6)));
        long badIdx = g.dev(got);
        g.k.denseGather(g.stream, dgrid, badIdx, dout, 3, s2, 6, bad);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.k.throwIfBadIndex(g.stream, bad, s2, grid.shape().toString()));
        assertEquals(want.getMessage(), e.getMessage());
    }

    /** The backend's InfoNCE recipe with the GEMMs done on the host: logits in, loss and dAnchors out. */
    @Test
    void infoNceSoftmaxAndGradient() {
        int r = 12, d = 16, kq = 256, cols = kq + 1;
        float tau = 0.2f, w = 1f / r;
        Tensor u = g.uniform(70, -1, 1, r, d), pos = g.uniform(71, -1, 1, r, d), queue = g.uniform(72, -1, 1, kq, d);
        Tensor logits = g.zeros(r, cols); // (R, K + 1): column 0 from the kernel, the rest the GEMM's U Q^T
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < kq; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    s += u.getFloat((long) i * d + c) * queue.getFloat((long) j * d + c);
                }
                logits.setFloat((long) i * cols + j + 1, (float) s);
            }
        }
        long dlog = g.dev(logits), du = g.dev(u), dpos = g.dev(pos), rowLoss = g.scratch(CudaKernels.infoNceWorkspaceBytes(r));
        long dloss = g.scratch(4);
        g.k.infoNcePositiveLogit(g.stream, du, dpos, dlog, r, d, cols);
        g.k.infoNceSoftmax(g.stream, dlog, r, cols, cols, 1 / tau, w / tau, rowLoss, true);
        g.k.infoNceLossSum(g.stream, rowLoss, r, w, dloss);
        Tensor grad = g.host(dlog, logits), dA = g.zeros(r, d);
        for (int i = 0; i < r; i++) { // dA = G[:, 1:] Q, the second GEMM
            for (int c = 0; c < d; c++) {
                double s = 0;
                for (int j = 0; j < kq; j++) {
                    s += grad.getFloat((long) i * cols + j + 1) * queue.getFloat((long) j * d + c);
                }
                dA.setFloat((long) i * d + c, (float) s);
            }
        }
        long ddA = g.dev(dA);
        g.k.infoNcePositiveGrad(g.stream, dlog, cols, dpos, ddA, r, d);
        Tensor loss = g.zeros(1), want = g.zeros(r, d);
        g.ref.infoNceLoss(u, pos, queue, tau, w, loss, want);
        g.assertClose("infoNce loss", loss, dloss, 1e-5, 1e-4);
        g.assertClose("infoNce dAnchors", want, ddA, 1e-5, 1e-4);

        long fresh = g.dev(logits); // the loss alone leaves the logits as they are
        g.k.infoNcePositiveLogit(g.stream, du, dpos, fresh, r, d, cols);
        Tensor before = g.host(fresh, logits);
        g.k.infoNceSoftmax(g.stream, fresh, r, cols, cols, 1 / tau, w / tau, rowLoss, false);
        g.k.infoNceLossSum(g.stream, rowLoss, r, w, dloss);
        g.assertClose("infoNce loss only", loss, dloss, 1e-5, 1e-4);
        g.assertClose("infoNce logits untouched", before, fresh, 0, 0);
    }

    @Test
    void optimisersAndNonFiniteCount() {
        Tensor p = g.uniform(80, -1, 1, 1000), gr = g.uniform(81, -1, 1, 1000), buf = g.uniform(82, -1, 1, 1000);
        long dp = g.dev(p), dg = g.dev(gr), db = g.dev(buf);
        g.ref.sgdStep(p, gr, buf, 0.05f, 0.9f, 1e-4f);
        g.k.sgdStep(g.stream, dp, dg, db, 1000, 0.05f, 0.9f, 1e-4f);
        g.assertClose("sgd param", p, dp, 0, 0);
        g.assertClose("sgd buffer", buf, db, 0, 0);
        g.ref.emaUpdate(p, gr, 0.99f);
        g.k.emaUpdate(g.stream, dp, dg, 1000, 0.99f);
        g.assertClose("ema", p, dp, 0, 0);
        g.ref.sgdStep(p, gr, null, 0.1f, 0f, 0f);
        g.k.sgdStep(g.stream, dp, dg, 0, 1000, 0.1f, 0f, 0f);
        g.assertClose("sgd without momentum", p, dp, 0, 0);

        p.setFloat(3, Float.NaN);
        p.setFloat(500, Float.POSITIVE_INFINITY);
        p.setFloat(999, Float.NEGATIVE_INFINITY);
        assertEquals(3, g.k.countNonFinite(g.stream, g.dev(p), 1000, g.scratch(8)));
        assertEquals(g.ref.countNonFinite(p), 3);
    }
}
