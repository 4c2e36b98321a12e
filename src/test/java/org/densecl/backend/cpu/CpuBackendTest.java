package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.PoolGeometry;
import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The cpu backend as a whole: it rejects F64 and bad shapes with messages naming the op, a one-thread
 * backend (no hand-off at all) matches ref, and two threads calling one backend at once do not share
 * scratch memory. Tolerances are those of the per-family tests for the same ops.
 */
class CpuBackendTest {
    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    @Test
    void rejectsF64NamingTheOp() {
        Tensor d = b.cpu.allocate(DType.F64, Shape.of(2, 3, 3, 4));
        Tensor f = b.cpu.allocate(Shape.of(2, 3, 3, 4)), c4 = b.cpu.allocate(Shape.of(4));
        expectOp("fill", () -> b.cpu.fill(d, 1f));
        expectOp("axpy", () -> b.cpu.axpy(1f, d, f));
        expectOp("zero", () -> b.cpu.zero(d));
        expectOp("copy", () -> b.cpu.copy(d, d));
        expectOp("reluForward", () -> b.cpu.reluForward(d, f));
        expectOp("batchNormTrainForward", () -> b.cpu.batchNormTrainForward(d, c4, c4, 0.1f, 1e-5f, c4, c4, c4, c4,
                f, false));
        expectOp("maxPoolForward", () -> b.cpu.maxPoolForward(PoolGeometry.resnetStem(2, 3, 3, 4), d,
                b.cpu.allocate(Shape.of(2, 2, 2, 4))));
        expectOp("resizeBilinearForward", () -> b.cpu.resizeBilinearForward(d, f, true));
        expectOp("sgdStep", () -> b.cpu.sgdStep(d, d, d, 0.1f, 0.9f, 0f));
        expectOp("gemm", () -> b.cpu.gemm(false, false, 2, 2, 2, 1f, d, d, 0f, d));
    }

    @Test
    void rejectsWrongShapesNamingOpAndShapes() {
        Tensor x = b.cpu.allocate(Shape.of(2, 5, 5, 3)), y = b.cpu.allocate(Shape.of(2, 5, 5, 4));
        var e = expectOp("add", () -> b.cpu.add(x, x, y));
        assertTrue(e.getMessage().contains("(2, 5, 5, 4)"), e.getMessage());
        e = expectOp("biasAdd", () -> b.cpu.biasAdd(x, b.cpu.allocate(Shape.of(4))));
        assertTrue(e.getMessage().contains("(2, 5, 5, 3)"), e.getMessage());
        expectOp("globalAvgPoolForward", () -> b.cpu.globalAvgPoolForward(x, b.cpu.allocate(Shape.of(2, 4))));
        expectOp("dropout2dForward", () -> b.cpu.dropout2dForward(x, 0.5f, 1L, b.cpu.allocate(Shape.of(2, 4)), x));
        expectOp("softmaxCrossEntropyForward", () -> b.cpu.softmaxCrossEntropyForward(x,
                b.cpu.allocate(DType.I32, Shape.of(49)), 255, true, x, b.cpu.allocate(Shape.of(1))));
    }

    private static IllegalArgumentException expectOp(String op, Executable call) {
        var e = assertThrows(IllegalArgumentException.class, call, op);
        assertTrue(e.getMessage().startsWith(op + ":"), "message should start with '" + op + ":': " + e.getMessage());
        return e;
    }

    @Test
    void delegatesGemmLinearAndConvolutionToCpuGemmAndCpuConv() {
        // Wiring smoke tests only (CpuGemm's and CpuConv's own tests are thorough). Sums of at most 108
        // products of O(1) values in float: atol 1e-5, rtol 1e-5.
        Pair a = b.normal(94, 1, 9, 5), bm = b.normal(95, 1, 7, 9), c = b.normal(96, 1, 5, 7);
        b.ref.gemm(true, true, 5, 7, 9, 0.5f, a.ref(), bm.ref(), 1f, c.ref());
        b.cpu.gemm(true, true, 5, 7, 9, 0.5f, a.dut(), bm.dut(), 1f, c.dut());
        b.close("gemm transA transB (5, 7, 9)", c, 1e-5, 1e-5);

        Pair x = b.normal(97, 1, 3, 11), w = b.normal(98, 1, 6, 11), bias = b.normal(99, 1, 6), y = b.zeros(3, 6);
        b.ref.linearForward(x.ref(), w.ref(), bias.ref(), y.ref());
        b.cpu.linearForward(x.dut(), w.dut(), bias.dut(), y.dut());
        b.close("linearForward (3, 11) x (6, 11)^T", y, 1e-5, 1e-5);
        Pair dy = b.normal(100, 1, 3, 6), dx = b.normal(101, 1, 3, 11), dw = b.normal(102, 1, 6, 11);
        Pair db = b.normal(103, 1, 6);
        b.ref.linearBackward(x.ref(), w.ref(), dy.ref(), dx.ref(), dw.ref(), db.ref());
        b.cpu.linearBackward(x.dut(), w.dut(), dy.dut(), dx.dut(), dw.dut(), db.dut());
        b.close("linearBackward dx", dx, 1e-5, 1e-5);
        b.close("linearBackward dw", dw, 1e-5, 1e-5);
        b.close("linearBackward db", db, 1e-5, 1e-5);

        ConvGeometry g = new ConvGeometry(2, 6, 5, 3, 4, 3, 3, 2, 1, 1, 1, 1, 1);
        int[] xd = g.xShape().dims(), wd = g.wShape().dims(), yd = g.yShape().dims();
        Pair cx = b.normal(104, 1, xd), cw = b.normal(105, 1, wd), cb = b.normal(106, 1, 4), cy = b.zeros(yd);
        b.ref.conv2dForward(g, cx.ref(), cw.ref(), cb.ref(), cy.ref());
        b.cpu.conv2dForward(g, cx.dut(), cw.dut(), cb.dut(), cy.dut());
        b.close("conv2dForward " + g, cy, 1e-5, 1e-5);
        Pair cdy = b.normal(107, 1, yd), cdx = b.normal(108, 1, xd), cdw = b.normal(109, 1, wd);
        Pair cdb = b.normal(110, 1, 4);
        b.ref.conv2dBackwardData(g, cdy.ref(), cw.ref(), cdx.ref());
        b.cpu.conv2dBackwardData(g, cdy.dut(), cw.dut(), cdx.dut());
        b.close("conv2dBackwardData " + g, cdx, 1e-5, 1e-5);
        b.ref.conv2dBackwardFilter(g, cx.ref(), cdy.ref(), cdw.ref(), cdb.ref());
        b.cpu.conv2dBackwardFilter(g, cx.dut(), cdy.dut(), cdw.dut(), cdb.dut());
        b.close("conv2dBackwardFilter dw " + g, cdw, 1e-5, 1e-5);
        b.close("conv2dBackwardFilter db " + g, cdb, 1e-5, 1e-5);
    }

    @Test
    void oneThreadBackendMatchesRef() {
        try (CpuBackend one = new CpuBackend(1, "vector")) {
            assertEquals("cpu", one.name());
            assertEquals(1, one.threads());
            int[] dims = {4, 19, 23, 37}; // large enough that a multi-thread backend would split it
            Pair x = b.normal(91, 1, dims), gamma = b.uniform(92, 0.5, 1.5, 37), beta = b.normal(93, 1, 37);
            Tensor xc = copyTo(one, x.ref()), g = copyTo(one, gamma.ref()), bt = copyTo(one, beta.ref());
            Tensor rm = one.allocate(Shape.of(37)), rv = one.allocate(Shape.of(37));
            Tensor mean = one.allocate(Shape.of(37)), invStd = one.allocate(Shape.of(37));
            Tensor y = one.allocate(Shape.of(dims));
            Pair want = b.zeros(dims), r = b.zeros(37), s = b.zeros(37), m = b.zeros(37), is = b.zeros(37);
            b.ref.batchNormTrainForward(x.ref(), gamma.ref(), beta.ref(), 0.1f, 1e-5f, r.ref(), s.ref(), m.ref(),
                    is.ref(), want.ref(), true);
            one.batchNormTrainForward(xc, g, bt, 0.1f, 1e-5f, rm, rv, mean, invStd, y, true);
            // As CpuBatchNormTest: float block sums merged in double, atol 5e-5 / rtol 1e-5 on outputs.
            org.densecl.testing.TensorAssert.close("1-thread batchNormTrainForward y", want.ref(), y, 5e-5, 1e-5);
        }
    }

    @Test
    void twoCallersShareOneBackendSafely() throws Exception {
        // Each caller runs batch norm on its own data (different channel counts, so their scratch
        // arrays would differ in size) 20 times; every result must equal that caller's first one.
        int[][] shapes = {{2, 21, 19, 37}, {3, 11, 13, 70}};
        ExecutorService callers = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int[] dims = shapes[t];
                long seed = 100 + t;
                results.add(callers.submit(() -> repeatBatchNorm(dims, seed)));
            }
            for (Future<String> f : results) {
                assertEquals("", f.get(), "concurrent callers");
            }
        } finally {
            callers.shutdownNow();
        }
    }

    private String repeatBatchNorm(int[] dims, long seed) {
        int c = dims[3];
        Tensor x = b.cpu.allocate(Shape.of(dims)), y = b.cpu.allocate(Shape.of(dims));
        org.densecl.testing.Rand.normal(x, seed, 1);
        Tensor g = b.cpu.allocate(Shape.of(c)), bt = b.cpu.allocate(Shape.of(c));
        b.cpu.fill(g, 1f);
        Tensor rm = b.cpu.allocate(Shape.of(c)), rv = b.cpu.allocate(Shape.of(c));
        Tensor mean = b.cpu.allocate(Shape.of(c)), invStd = b.cpu.allocate(Shape.of(c));
        float[] first = null, now = new float[(int) x.numel()];
        for (int i = 0; i < 20; i++) {
            b.cpu.batchNormTrainForward(x, g, bt, 0.1f, 1e-5f, rm, rv, mean, invStd, y, false);
            b.cpu.download(y, now);
            if (first == null) {
                first = now.clone();
            } else if (!java.util.Arrays.equals(first, now)) {
                return "batchNormTrainForward " + Shape.of(dims) + " changed on repetition " + i;
            }
        }
        return "";
    }

    private static Tensor copyTo(CpuBackend backend, Tensor host) {
        Tensor t = backend.allocate(host.shape());
        float[] v = new float[(int) host.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = host.getFloat(i);
        }
        backend.upload(v, t);
        return t;
    }
}
