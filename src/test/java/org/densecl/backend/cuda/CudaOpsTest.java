package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.densecl.backend.ConvGeometry;
import org.densecl.backend.PoolGeometry;
import org.densecl.backend.VsRef;
import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every op of the cuda backend against the ref oracle, with the harness the cpu backend's tests use
 * ({@link VsRef}): seeded inputs of awkward sizes (odd, not multiples of a warp or a tile), uploaded to the
 * device, results downloaded and compared. Skipped, with the reason printed, when no CUDA device loads.
 *
 * <p>The backend runs in strict fp32 here ({@link CudaPrecision#FP32}: FMA math in cuDNN, pedantic cuBLAS),
 * so any difference is summation order, and tolerances are those of f32 against ref's double sums: for a
 * dot product of k terms in [-1, 1] about sqrt(k) * 2^-24 * |terms| typical; cuDNN may still pick FFT or
 * Winograd algorithms, whose transforms add ~1e-6 of the output scale, hence atol 2e-5 * sqrt(k).
 * Elementwise ops are exact or one rounding (1e-7 + 1e-6 relative). Reductions (BN statistics, pooling
 * means, losses) sum in double or in fixed trees on the device: 1e-5 relative. TF32 is tested on its own in
 * {@link #tf32GemmAndConvolutionStayWithinTheirRounding}.
 *
 * <p>No op falls back to the host: device tensors are zero-length segments, so any host read or write of
 * one throws; every op below runs on device tensors only.
 */
class CudaOpsTest {
    private static final double ATOL = 1e-7, RTOL = 1e-6;
    private VsRef b;
    private CudaBackend cuda;

    /**
     * A cuda backend with {@code options} (CudaOptions syntax) on device 0, or a skip saying why none loads (the
     * reason printed once). {@link CudaOpsEmulatedTest} opens it on the CPU stand-ins instead.
     */
    CudaBackend open(String options) throws Throwable {
        DeviceOnce.require();
        return CudaBackend.open(0, CudaOptions.parse(options));
    }

    @BeforeEach
    void openBackend() throws Throwable {
        cuda = open("fp32");
        b = new VsRef(cuda);
    }

    @AfterEach
    void closeBackend() {
        if (b != null) {
            b.close();
        }
    }

    private static double dot(int k) {
        return 2e-5 * Math.sqrt(k) + 1e-6;
    }

    @Test
    void memoryFillCopyAndUploadRoundTrip() {
        Pair x = b.uniform(1, -2, 2, 1001), y = b.zeros(1001);
        b.close("upload/download", x, 0, 0);
        b.ref.copy(x.ref(), y.ref());
        cuda.copy(x.dut(), y.dut());
        b.close("copy", y, 0, 0);
        b.ref.zero(y.ref());
        cuda.zero(y.dut());
        b.close("zero", y, 0, 0);
        b.ref.fill(y.ref(), -3.25f);
        cuda.fill(y.dut(), -3.25f);
        b.close("fill", y, 0, 0);
    }

    @Test
    void elementwiseMatchRef() {
        for (int n : new int[] {1, 13, 100_003}) {
            Pair x = b.uniform(1, -2, 2, n), y = b.uniform(2, -2, 2, n), z = b.zeros(n), g = b.uniform(3, -1, 1, n);
            b.ref.scale(x.ref(), -1.7f);
            cuda.scale(x.dut(), -1.7f);
            b.close("scale n=" + n, x, ATOL, RTOL);
            b.ref.axpy(0.37f, x.ref(), y.ref());
            cuda.axpy(0.37f, x.dut(), y.dut());
            b.close("axpy n=" + n, y, ATOL, RTOL);
            b.ref.add(x.ref(), y.ref(), z.ref());
            cuda.add(x.dut(), y.dut(), z.dut());
            b.close("add n=" + n, z, ATOL, RTOL);
            b.ref.addRelu(x.ref(), z.ref(), z.ref()); // y aliases b
            cuda.addRelu(x.dut(), z.dut(), z.dut());
            b.close("addRelu aliased n=" + n, z, ATOL, RTOL);
            b.ref.reluForward(x.ref(), y.ref());
            cuda.reluForward(x.dut(), y.dut());
            b.close("reluForward n=" + n, y, 0, 0);
            for (boolean acc : new boolean[] {true, false}) {
                b.ref.reluBackward(y.ref(), g.ref(), z.ref(), acc);
                cuda.reluBackward(y.dut(), g.dut(), z.dut(), acc);
                b.close("reluBackward accumulate=" + acc + " n=" + n, z, ATOL, RTOL);
            }
        }
    }

    @Test
    void countNonFiniteCountsNanAndInfinities() {
        Pair x = b.uniform(4, -1, 1, 777);
        assertEquals(0, cuda.countNonFinite(x.dut()));
        x.ref().setFloat(0, Float.NaN);
        x.ref().setFloat(400, Float.POSITIVE_INFINITY);
        x.ref().setFloat(776, Float.NEGATIVE_INFINITY);
        b.mirror(x);
        assertEquals(3, cuda.countNonFinite(x.dut()));
    }

    @Test
    void gemmEveryTransposeMatchesRef() {
        gemms(b, cuda);
    }

    /** Every transpose combination of gemm, and linear forward and backward, on {@code cuda} against ref. */
    static void gemms(VsRef b, CudaBackend cuda) {
        int m = 37, n = 29, k = 131;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Pair a = ta ? b.uniform(5, -1, 1, k, m) : b.uniform(5, -1, 1, m, k);
                Pair bb = tb ? b.uniform(6, -1, 1, n, k) : b.uniform(6, -1, 1, k, n);
                Pair c = b.uniform(7, -1, 1, m, n);
                b.ref.gemm(ta, tb, m, n, k, 0.5f, a.ref(), bb.ref(), 0.25f, c.ref());
                cuda.gemm(ta, tb, m, n, k, 0.5f, a.dut(), bb.dut(), 0.25f, c.dut());
                b.close("gemm " + ta + " " + tb, c, dot(k), 1e-5);
            }
        }
        Pair x = b.uniform(8, -1, 1, 5, 11), w = b.uniform(9, -1, 1, 7, 11), bias = b.uniform(10, -1, 1, 7);
        Pair y = b.zeros(5, 7), dy = b.uniform(11, -1, 1, 5, 7), dx = b.uniform(12, -1, 1, 5, 11);
        Pair dw = b.zeros(7, 11), db = b.uniform(13, -1, 1, 7);
        b.ref.linearForward(x.ref(), w.ref(), bias.ref(), y.ref());
        cuda.linearForward(x.dut(), w.dut(), bias.dut(), y.dut());
        b.close("linearForward", y, dot(11), 1e-5);
        b.ref.linearBackward(x.ref(), w.ref(), dy.ref(), dx.ref(), dw.ref(), db.ref());
        cuda.linearBackward(x.dut(), w.dut(), dy.dut(), dx.dut(), dw.dut(), db.dut());
        b.close("linearBackward dx", dx, dot(7), 1e-5);
        b.close("linearBackward dw", dw, dot(5), 1e-5);
        b.close("linearBackward db", db, 1e-6, 1e-5);
    }

    @Test
    void convolutionsMatchRef() {
        convolutions(b, cuda);
    }

    /** Five geometries: 3x3 same, strided, pointwise, dilated (FCN's layer4), the stem. */
    private static final ConvGeometry[] SHAPES = {
        ConvGeometry.of(2, 9, 7, 5, 6, 3, 1, 1, 1),
        ConvGeometry.of(3, 11, 10, 4, 7, 3, 2, 1, 1),
        ConvGeometry.of(2, 8, 9, 6, 5, 1, 1, 0, 1),
        ConvGeometry.of(1, 12, 13, 3, 4, 3, 1, 2, 2),
        ConvGeometry.of(2, 23, 21, 3, 8, 7, 2, 3, 1),
    };

    /** The five geometries, every direction, on {@code cuda} against ref. */
    static void convolutions(VsRef b, CudaBackend cuda) {
        for (ConvGeometry g : SHAPES) {
            int k = g.r() * g.s() * g.c();
            Pair x = b.uniform(20, -1, 1, g.xShape().dims()), w = b.uniform(21, -1, 1, g.wShape().dims());
            Pair bias = b.uniform(22, -1, 1, g.k()), y = b.zeros(g.yShape().dims());
            b.ref.conv2dForward(g, x.ref(), w.ref(), bias.ref(), y.ref());
            cuda.conv2dForward(g, x.dut(), w.dut(), bias.dut(), y.dut());
            b.close("conv2dForward " + g, y, dot(k), 1e-5);
            Pair dy = b.uniform(23, -1, 1, g.yShape().dims());
            for (boolean acc : new boolean[] {true, false}) {
                Pair dx = b.uniform(24, -1, 1, g.xShape().dims());
                b.ref.conv2dBackwardData(g, dy.ref(), w.ref(), dx.ref(), acc);
                cuda.conv2dBackwardData(g, dy.dut(), w.dut(), dx.dut(), acc);
                b.close("conv2dBackwardData accumulate=" + acc + " " + g, dx, dot(g.r() * g.s() * g.k()), 1e-5);
            }
            Pair dw = b.uniform(25, -1, 1, g.wShape().dims()), db = b.uniform(26, -1, 1, g.k());
            b.ref.conv2dBackwardFilter(g, x.ref(), dy.ref(), dw.ref(), db.ref());
            cuda.conv2dBackwardFilter(g, x.dut(), dy.dut(), dw.dut(), db.dut());
            int pixels = g.n() * g.p() * g.q();
            b.close("conv2dBackwardFilter dw " + g, dw, dot(pixels), 1e-5);
            b.close("conv2dBackwardFilter db " + g, db, dot(pixels), 1e-5);
        }
    }

    /**
     * TF32 rounds each input to a 10-bit mantissa (relative error up to 2^-11), so a product of two is off by
     * up to 2^-10 of its size and a sum of k products of random sign by about 2^-10 * sqrt(k) in absolute
     * terms (inputs in [-1, 1]); 4x that covers the tails of k = 576 and 1152 terms. A transposition or a
     * wrong algorithm is off by O(sqrt(k)), 250x more.
     */
    @Test
    void tf32GemmAndConvolutionStayWithinTheirRounding() throws Throwable {
        try (CudaBackend tf32 = open("tf32"); VsRef t = new VsRef(tf32)) {
            int m = 64, n = 48, k = 1152;
            Pair a = t.uniform(30, -1, 1, m, k), bb = t.uniform(31, -1, 1, k, n), c = t.zeros(m, n);
            t.ref.gemm(false, false, m, n, k, 1f, a.ref(), bb.ref(), 0f, c.ref());
            tf32.gemm(false, false, m, n, k, 1f, a.dut(), bb.dut(), 0f, c.dut());
            t.close("TF32 gemm k=" + k, c, 4 * 0x1p-10 * Math.sqrt(k), 0);
            ConvGeometry g = ConvGeometry.of(4, 14, 14, 64, 32, 3, 1, 1, 1);
            Pair x = t.uniform(32, -1, 1, g.xShape().dims()), w = t.uniform(33, -1, 1, g.wShape().dims());
            Pair y = t.zeros(g.yShape().dims());
            t.ref.conv2dForward(g, x.ref(), w.ref(), null, y.ref());
            tf32.conv2dForward(g, x.dut(), w.dut(), null, y.dut());
            t.close("TF32 conv2dForward " + g, y, 4 * 0x1p-10 * Math.sqrt(576), 0);
        }
    }

    /**
     * bf16 convolutions (cuDNN's PSEUDO_BFLOAT16_CONFIG on bf16 copies) against ref with the same roundings
     * ({@link Bf16Convolutions}: x, w, dy and the result rounded to bf16 to nearest even), so what is left is
     * f32 summation order, as in {@link #convolutionsMatchRef} ({@link #dot}), plus a result that order puts on
     * the other side of a bf16 rounding boundary: one bf16 step, 2^-7 of it at most (rtol). Against plain f32
     * ref the difference is the rounding itself, each input off by up to 2^-8 relative: a sum of k products of
     * inputs in [-1, 1] moves by about 2^-7 * sqrt(k) / 3, so 2^-7 * sqrt(k) there, which a transposed filter
     * or a wrong operand (off by O(sqrt(k) / 3)) still fails by 40x.
     */
    @Test
    void bf16ConvolutionsRoundAsPseudoBf16Config() throws Throwable {
        try (CudaBackend bf16 = open("bf16"); VsRef t = new VsRef(bf16)) {
            org.densecl.backend.Backend oracle = Bf16Convolutions.on(t.ref);
            for (ConvGeometry g : SHAPES) {
                Pair x = t.uniform(40, -1, 1, g.xShape().dims()), w = t.uniform(41, -1, 1, g.wShape().dims());
                Pair bias = t.uniform(42, -1, 1, g.k()), y = t.zeros(g.yShape().dims()), y32 = t.zeros(g.yShape().dims());
                int k = g.r() * g.s() * g.c();
                t.ref.conv2dForward(g, x.ref(), w.ref(), bias.ref(), y32.ref());
                oracle.conv2dForward(g, x.ref(), w.ref(), bias.ref(), y.ref());
                bf16.conv2dForward(g, x.dut(), w.dut(), bias.dut(), y.dut());
                t.close("bf16 conv2dForward " + g, y, dot(k), 0x1p-7);
                t.close("bf16 conv2dForward against f32 " + g, new Pair(y32.ref(), y.dut()), 0x1p-7 * Math.sqrt(k), 0);
                Pair dy = t.uniform(43, -1, 1, g.yShape().dims());
                for (boolean acc : new boolean[] {true, false}) {
                    Pair dx = t.uniform(44, -1, 1, g.xShape().dims());
                    oracle.conv2dBackwardData(g, dy.ref(), w.ref(), dx.ref(), acc);
                    bf16.conv2dBackwardData(g, dy.dut(), w.dut(), dx.dut(), acc);
                    t.close("bf16 conv2dBackwardData accumulate=" + acc + " " + g, dx, dot(g.r() * g.s() * g.k()),
                            0x1p-7);
                }
                Pair dw = t.uniform(45, -1, 1, g.wShape().dims()), db = t.uniform(46, -1, 1, g.k());
                oracle.conv2dBackwardFilter(g, x.ref(), dy.ref(), dw.ref(), db.ref());
                bf16.conv2dBackwardFilter(g, x.dut(), dy.dut(), dw.dut(), db.dut());
                int pixels = g.n() * g.p() * g.q();
                t.close("bf16 conv2dBackwardFilter dw " + g, dw, dot(pixels), 0x1p-7);
                t.close("bf16 conv2dBackwardFilter db (f32) " + g, db, dot(pixels), 1e-5);
            }
        }
    }

    @Test
    void biasAndChannelBlocksMatchRef() {
        Pair y = b.uniform(40, -1, 1, 3, 5, 7, 9), bias = b.uniform(41, -1, 1, 9), db = b.uniform(42, -1, 1, 9);
        b.ref.biasAdd(y.ref(), bias.ref());
        cuda.biasAdd(y.dut(), bias.dut());
        b.close("biasAdd", y, ATOL, RTOL);
        b.ref.biasBackward(y.ref(), db.ref());
        cuda.biasBackward(y.dut(), db.dut());
        b.close("biasBackward", db, 1e-6, 1e-5);
        Pair src = b.uniform(43, -1, 1, 2, 3, 5, 7), dst = b.uniform(44, -1, 1, 2, 3, 5, 11);
        for (boolean acc : new boolean[] {false, true}) {
            b.ref.copyChannels(src.ref(), 2, dst.ref(), 5, 4, acc);
            cuda.copyChannels(src.dut(), 2, dst.dut(), 5, 4, acc);
            b.close("copyChannels accumulate=" + acc, dst, ATOL, RTOL);
        }
    }

    @Test
    void batchNormOnOurKernelsMatchesRef() {
        batchNorm(b, cuda);
    }

    @Test
    void batchNormOnCudnnMatchesRef() throws Throwable {
        try (CudaBackend cudnnBn = open("fp32,bn=cudnn"); VsRef h = new VsRef(cudnnBn)) {
            batchNorm(h, cudnnBn);
        }
    }

    /** Every batch-norm op and variant on {@code cuda} (the backend under test of {@code b}) against ref. */
    private static void batchNorm(VsRef b, CudaBackend cuda) {
        for (int[] dims : new int[][] {{4, 5, 7, 3}, {33, 17}, {2, 9, 9, 64}}) {
            int c = dims[dims.length - 1];
            for (boolean relu : new boolean[] {false, true}) {
                Pair x = b.normal(50, 2, dims), gamma = b.uniform(51, 0.5, 1.5, c), beta = b.uniform(52, -1, 1, c);
                Pair rm = b.uniform(53, -1, 1, c), rv = b.uniform(54, 0.5, 2, c), mean = b.zeros(c), inv = b.zeros(c);
                Pair y = b.zeros(dims);
                String what = "batchNorm " + Shape.of(dims) + " relu=" + relu;
                b.ref.batchNormTrainForward(x.ref(), gamma.ref(), beta.ref(), 0.1f, 1e-5f, rm.ref(), rv.ref(),
                        mean.ref(), inv.ref(), y.ref(), relu);
                cuda.batchNormTrainForward(x.dut(), gamma.dut(), beta.dut(), 0.1f, 1e-5f, rm.dut(), rv.dut(),
                        mean.dut(), inv.dut(), y.dut(), relu);
                b.close(what + " y", y, 1e-5, 1e-5);
                b.close(what + " saveMean", mean, 1e-6, 1e-5);
                b.close(what + " saveInvStd", inv, 0, 1e-5);
                b.close(what + " runningMean", rm, 1e-6, 1e-5);
                b.close(what + " runningVar (unbiased)", rv, 0, 1e-5);
                Pair dy = b.normal(55, 1, dims), dgamma = b.uniform(56, -1, 1, c), dbeta = b.uniform(57, -1, 1, c);
                for (boolean acc : new boolean[] {true, false}) {
                    Pair dx = b.uniform(58, -1, 1, dims);
                    b.ref.batchNormBackward(x.ref(), dy.ref(), gamma.ref(), mean.ref(), inv.ref(), y.ref(), relu,
                            dx.ref(), dgamma.ref(), dbeta.ref(), acc);
                    cuda.batchNormBackward(x.dut(), dy.dut(), gamma.dut(), mean.dut(), inv.dut(), y.dut(), relu,
                            dx.dut(), dgamma.dut(), dbeta.dut(), acc);
                    b.close(what + " dx accumulate=" + acc, dx, 1e-5, 1e-4);
                    b.close(what + " dgamma", dgamma, 1e-5, 1e-5);
                    b.close(what + " dbeta", dbeta, 1e-5, 1e-5);
                }
                b.ref.batchNormInferenceForward(x.ref(), gamma.ref(), beta.ref(), rm.ref(), rv.ref(), 1e-5f, y.ref(),
                        relu);
                cuda.batchNormInferenceForward(x.dut(), gamma.dut(), beta.dut(), rm.dut(), rv.dut(), 1e-5f, y.dut(),
                        relu);
                b.close(what + " inference y", y, 1e-5, 1e-5);
            }
            Pair x = b.normal(60, 2, dims), gamma = b.uniform(61, 0.5, 1.5, c), beta = b.uniform(62, -1, 1, c);
            Pair rm = b.zeros(c), rv = b.zeros(c), mean = b.zeros(c), inv = b.zeros(c);
            Pair res = b.normal(63, 1, dims), y = b.zeros(dims);
            b.ref.batchNormTrainForwardAddRelu(x.ref(), gamma.ref(), beta.ref(), 0.1f, 1e-5f, rm.ref(), rv.ref(),
                    mean.ref(), inv.ref(), res.ref(), y.ref());
            cuda.batchNormTrainForwardAddRelu(x.dut(), gamma.dut(), beta.dut(), 0.1f, 1e-5f, rm.dut(), rv.dut(),
                    mean.dut(), inv.dut(), res.dut(), y.dut());
            b.close("batchNormTrainForwardAddRelu " + Shape.of(dims), y, 1e-5, 1e-5);
        }
    }

    @Test
    void poolingAndResizeMatchRef() {
        PoolGeometry g = PoolGeometry.resnetStem(2, 13, 11, 5);
        Pair x = b.uniform(70, -1, 1, g.xShape().dims()), y = b.zeros(g.yShape().dims());
        b.ref.reluForward(x.ref(), x.ref()); // tied zeros: the first maximum must win, as in PyTorch
        b.mirror(x);
        b.ref.maxPoolForward(g, x.ref(), y.ref());
        cuda.maxPoolForward(g, x.dut(), y.dut());
        b.close("maxPoolForward", y, 0, 0);
        Pair dy = b.uniform(71, -1, 1, g.yShape().dims()), dx = b.uniform(72, -1, 1, g.xShape().dims());
        b.ref.maxPoolBackward(g, x.ref(), y.ref(), dy.ref(), dx.ref());
        cuda.maxPoolBackward(g, x.dut(), y.dut(), dy.dut(), dx.dut());
        b.close("maxPoolBackward", dx, ATOL, RTOL);
        Pair gy = b.zeros(2, 5), gdx = b.uniform(73, -1, 1, 2, 13, 11, 5), gdy = b.uniform(74, -1, 1, 2, 5);
        b.ref.globalAvgPoolForward(x.ref(), gy.ref());
        cuda.globalAvgPoolForward(x.dut(), gy.dut());
        b.close("globalAvgPoolForward", gy, 1e-6, 1e-5);
        b.ref.globalAvgPoolBackward(gdy.ref(), gdx.ref());
        cuda.globalAvgPoolBackward(gdy.dut(), gdx.dut());
        b.close("globalAvgPoolBackward", gdx, ATOL, RTOL);
        Pair ay = b.zeros(2, 3, 6, 5), ady = b.uniform(75, -1, 1, 2, 3, 6, 5), adx = b.uniform(76, -1, 1, 2, 13, 11, 5);
        b.ref.adaptiveAvgPoolForward(x.ref(), ay.ref());
        cuda.adaptiveAvgPoolForward(x.dut(), ay.dut());
        b.close("adaptiveAvgPoolForward", ay, 1e-6, 1e-5);
        b.ref.adaptiveAvgPoolBackward(ady.ref(), adx.ref());
        cuda.adaptiveAvgPoolBackward(ady.dut(), adx.dut());
        b.close("adaptiveAvgPoolBackward", adx, 1e-6, 1e-5);
        for (boolean align : new boolean[] {false, true}) {
            Pair ry = b.zeros(2, 37, 29, 5), rdy = b.uniform(77, -1, 1, 2, 37, 29, 5);
            Pair rdx = b.uniform(78, -1, 1, 2, 13, 11, 5);
            b.ref.resizeBilinearForward(x.ref(), ry.ref(), align);
            cuda.resizeBilinearForward(x.dut(), ry.dut(), align);
            b.close("resizeBilinearForward align=" + align, ry, 1e-6, 1e-5);
            b.ref.resizeBilinearBackward(rdy.ref(), rdx.ref(), align);
            cuda.resizeBilinearBackward(rdy.dut(), rdx.dut(), align);
            b.close("resizeBilinearBackward align=" + align, rdx, 1e-5, 1e-5);
        }
    }

    @Test
    void dropoutMatchesRef() {
        Pair x = b.uniform(80, -1, 1, 3, 5, 4, 17), mask = b.zeros(3, 17), y = b.zeros(3, 5, 4, 17);
        b.ref.dropout2dForward(x.ref(), 0.3f, 1234L, mask.ref(), y.ref());
        cuda.dropout2dForward(x.dut(), 0.3f, 1234L, mask.dut(), y.dut());
        b.close("dropout2dForward mask", mask, 0, 0);
        b.close("dropout2dForward y", y, ATOL, RTOL);
        Pair dx = b.uniform(81, -1, 1, 3, 5, 4, 17);
        b.ref.dropout2dBackward(mask.ref(), x.ref(), dx.ref());
        cuda.dropout2dBackward(mask.dut(), x.dut(), dx.dut());
        b.close("dropout2dBackward", dx, ATOL, RTOL);
    }

    @Test
    void lossesMatchRefAndBadLabelsThrow() {
        int m = 1037, c = 21, ignore = 255;
        for (boolean avg : new boolean[] {false, true}) {
            Pair logits = b.normal(90, 3, m, c), labels = b.labels(91, c, ignore, 0.2, m);
            Pair probs = b.zeros(m, c), loss = b.zeros(1), dl = b.uniform(92, -1, 1, m, c);
            b.ref.softmaxCrossEntropyForward(logits.ref(), labels.ref(), ignore, avg, probs.ref(), loss.ref());
            cuda.softmaxCrossEntropyForward(logits.dut(), labels.dut(), ignore, avg, probs.dut(), loss.dut());
            b.close("cross-entropy probs avg=" + avg, probs, 1e-6, 1e-5);
            b.close("cross-entropy loss avg=" + avg, loss, 1e-6, 1e-5);
            b.ref.softmaxCrossEntropyBackward(probs.ref(), labels.ref(), ignore, avg, 0.7f, dl.ref());
            cuda.softmaxCrossEntropyBackward(probs.dut(), labels.dut(), ignore, avg, 0.7f, dl.dut());
            b.close("cross-entropy backward avg=" + avg, dl, 1e-7, 1e-5);
        }
        Pair bad = b.labels(93, c + 5, ignore, 0, m), logits = b.normal(94, 1, m, c), probs = b.zeros(m, c);
        IllegalArgumentException want = assertThrows(IllegalArgumentException.class, () -> b.ref
                .softmaxCrossEntropyForward(logits.ref(), bad.ref(), ignore, false, probs.ref(), b.zeros(1).ref()));
        Pair badLoss = b.zeros(1);
        cuda.softmaxCrossEntropyForward(logits.dut(), bad.dut(), ignore, false, probs.dut(), badLoss.dut());
        assertDeferred(want, badLoss);
        Pair x = b.normal(95, 1, 67, 129), y = b.zeros(67, 129), norms = b.zeros(67), dy = b.normal(96, 1, 67, 129);
        Pair dx = b.uniform(97, -1, 1, 67, 129);
        b.ref.l2NormalizeForward(x.ref(), 1e-12f, y.ref(), norms.ref());
        cuda.l2NormalizeForward(x.dut(), 1e-12f, y.dut(), norms.dut());
        b.close("l2NormalizeForward y", y, 1e-6, 1e-5);
        b.close("l2NormalizeForward norms", norms, 1e-6, 1e-5);
        b.ref.l2NormalizeBackward(y.ref(), norms.ref(), 1e-12f, dy.ref(), dx.ref());
        cuda.l2NormalizeBackward(y.dut(), norms.dut(), 1e-12f, dy.dut(), dx.dut());
        b.close("l2NormalizeBackward", dx, 1e-6, 1e-5);
    }

    @Test
    void contrastiveOpsMatchRef() {
        int n = 3, s2 = 49, c = 67, d = 19, k = 301, r = n * s2;
        Pair qb = b.normal(100, 1, n, s2, c), kb = b.normal(101, 1, n, s2, c);
        Pair idxRef = new Pair(b.ref.allocate(DType.I32, Shape.of(n, s2)), cuda.allocate(DType.I32, Shape.of(n, s2)));
        b.ref.denseMatch(qb.ref(), kb.ref(), idxRef.ref());
        cuda.denseMatch(qb.dut(), kb.dut(), idxRef.dut());
        Pair grid = b.normal(102, 1, n, s2, d), outRef = b.zeros(n, s2, d);
        // Indices compared through the gather: the cuda indices gather the same rows as ref's.
        b.ref.denseGather(grid.ref(), idxRef.ref(), outRef.ref());
        cuda.denseGather(grid.dut(), idxRef.dut(), outRef.dut());
        b.close("denseMatch + denseGather", outRef, 0, 0);
        int[] wrong = new int[n * s2];
        wrong[s2 + 7] = s2; // image 1, position 7: one past the grid
        wrong[2 * s2] = -1;
        Pair badIdx = new Pair(b.ref.allocate(DType.I32, Shape.of(n, s2)), cuda.allocate(DType.I32, Shape.of(n, s2)));
        b.ref.upload(wrong, badIdx.ref());
        cuda.upload(wrong, badIdx.dut());
        IllegalArgumentException want = assertThrows(IllegalArgumentException.class,
                () -> b.ref.denseGather(grid.ref(), badIdx.ref(), outRef.ref()));
        cuda.denseGather(grid.dut(), badIdx.dut(), outRef.dut());
        assertDeferred(want, outRef);
        Pair u = b.normal(103, 0.2, r, d), pos = b.normal(104, 0.2, r, d), queue = b.normal(105, 0.2, k, d);
        for (boolean grad : new boolean[] {true, false}) {
            Pair loss = b.zeros(1), du = b.uniform(106, -1, 1, r, d);
            b.ref.infoNceLoss(u.ref(), pos.ref(), queue.ref(), 0.2f, 1f / r, loss.ref(), grad ? du.ref() : null);
            cuda.infoNceLoss(u.dut(), pos.dut(), queue.dut(), 0.2f, 1f / r, loss.dut(), grad ? du.dut() : null);
            b.close("infoNceLoss loss grad=" + grad, loss, 1e-6, 1e-5);
            b.close("infoNceLoss dAnchors grad=" + grad, du, 1e-6, 1e-5);
        }
    }

    /**
     * A bad label or index is found on the device without a synchronisation of its own: the op returns with
     * its check pending, and the next download (which waits for the device anyway) throws the reference's
     * message, once; the backend then works on.
     */
    private void assertDeferred(IllegalArgumentException want, Pair output) {
        assertEquals(1, cuda.pendingChecks(), "the check waits for the next synchronisation");
        IllegalArgumentException got = assertThrows(IllegalArgumentException.class, () -> b.download(output));
        assertEquals(want.getMessage(), got.getMessage());
        assertEquals(0, cuda.pendingChecks(), "read once");
        b.download(output); // reported once: the next download is clean
    }

    @Test
    void optimisersMatchRef() {
        Pair p = b.uniform(110, -1, 1, 1001), g = b.uniform(111, -1, 1, 1001), buf = b.uniform(112, -1, 1, 1001);
        b.ref.sgdStep(p.ref(), g.ref(), buf.ref(), 0.1f, 0.9f, 1e-4f);
        cuda.sgdStep(p.dut(), g.dut(), buf.dut(), 0.1f, 0.9f, 1e-4f);
        b.close("sgdStep param", p, ATOL, RTOL);
        b.close("sgdStep buffer", buf, ATOL, RTOL);
        Pair t = b.uniform(113, -1, 1, 1001);
        b.ref.emaUpdate(t.ref(), p.ref(), 0.99f);
        cuda.emaUpdate(t.dut(), p.dut(), 0.99f);
        b.close("emaUpdate", t, ATOL, RTOL);
    }
}
