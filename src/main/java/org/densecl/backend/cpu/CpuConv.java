package org.densecl.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.gemm.Col2im;
import org.densecl.backend.cpu.gemm.FlippedFilterB;
import org.densecl.backend.cpu.gemm.Im2col;
import org.densecl.backend.cpu.gemm.Im2colA;
import org.densecl.backend.cpu.gemm.Im2colB;
import org.densecl.backend.cpu.gemm.MatrixPanels;
import org.densecl.backend.cpu.gemm.StemConv;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.Lanes;
import org.densecl.backend.cpu.winograd.WinogradConv;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * 2-D convolution on NHWC activations and KRSC filters as GEMMs, with the contracts of Backend's conv2d*
 * ops (forward overwrites y; the backward passes ACCUMULATE into dx, dw, db). With M = N*P*Q pixels:
 * <pre>
 *   forward          Y (M, K)      = X_col (M, RSC) * W^T          W stored (K, RSC)
 *   backward data    dX_col (M, RSC) = dY (M, K) * W, then col2im (scatter-add into dx)
 *   backward filter  dW (K, RSC)  += dY^T (K, M) * X_col (M, RSC);  db += column sums of dY
 * </pre>
 * A 1x1, stride-1, unpadded convolution is exactly these GEMMs on the tensors themselves; its filter
 * gradient, when K > C and the pixels are many, as the transposed product dW^T (C, K) = X^T (C, M) * dY (M, K)
 * (see {@link #transposesFilterGradient}). A 3x3, stride-1,
 * pad-1 one (ResNet's bottleneck conv2) with the vector provider goes to {@link WinogradConv} (F(4x4, 3x3):
 * 3-4x fewer multiplications) when its sizes qualify ({@link WinogradConv#applies}); the forward and
 * filter gradient of the RGB stem (7x7/2, 3 channels) to {@link StemConv}, direct convolutions. Otherwise:
 * <ul>
 *   <li>implicit GEMM: X_col is a view of the NHWC input ({@link Im2colA}, {@link Im2colB}), handed to
 *       {@link CpuGemm#run}, the one route to a GEMM for either provider: the vector driver packs its
 *       panels straight from the view, so no column matrix exists; OpenBLAS gets it written out block by
 *       block. A stride-1 data gradient is itself a forward convolution of dY with the rotated filter
 *       ({@link FlippedFilterB}), accumulated into dx with no col2im.</li>
 *   <li>strided data gradients: dX_col in column blocks of at most {@link #BLOCK_FLOATS} floats (a
 *       workspace that grows once and is reused), then col2im.</li>
 * </ul>
 * Methods are synchronized: the workspace and operand views are shared state.
 */
public final class CpuConv {
    /** Largest column block (floats): 4 MiB, so a block stays in L3 between the GEMM and col2im. */
    static final int BLOCK_FLOATS = 1 << 20;
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final Parallel parallel;
    private final CpuGemm gemm;
    private final WinogradConv winograd; // null for openblas
    private final StemConv stem;         // null for openblas
    private final boolean transposedFilterGradient;
    private final Im2col view = new Im2col();
    private final Im2colA im2colA = new Im2colA(view);
    private final Im2colB im2colB = new Im2colB(view);
    private final FlippedFilterB flipped = new FlippedFilterB();
    private final MatrixPanels aPanels = new MatrixPanels();
    private final MatrixPanels bPanels = new MatrixPanels();
    // The column workspace lives as long as this object. Arena.ofAuto is safe here: native code (OpenBLAS)
    // reads it only inside a call made while this object, which holds the segment, is running.
    private MemorySegment workspace = MemorySegment.NULL; // (rows, RSC) dX_col block of a strided data gradient, or (C, K) dw^T
    private final float[][] partialSums;  // per thread: (K) partial column sums for db

    public CpuConv(Parallel parallel, CpuGemm gemm) {
        this(parallel, gemm, CpuTuning.DEFAULT);
    }

    /**
     * The convolution variants {@code tuning} allows ({@link CpuTuning#winograd}, {@link CpuTuning#stemConv},
     * {@link CpuTuning#transposedFilterGradient}); the openblas provider takes neither Winograd nor the stem.
     * Its GEMM provider is {@code gemm}'s.
     */
    public CpuConv(Parallel parallel, CpuGemm gemm, CpuTuning tuning) {
        this.parallel = parallel;
        this.gemm = gemm;
        this.winograd = gemm.isVector() && tuning.winograd() ? new WinogradConv(parallel, gemm.vector().paths()) : null;
        this.stem = gemm.isVector() && tuning.stemConv() ? new StemConv(parallel) : null;
        this.transposedFilterGradient = tuning.transposedFilterGradient();
        this.partialSums = new float[parallel.threads()][];
    }

    /** y = conv(x, w) (+ bias). x (N, H, W, C), w (K, R, S, C), bias (K) or null, y (N, P, Q, K). */
    public synchronized void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        String op = "conv2dForward";
        check(op, "x", x, g, g.xShape());
        check(op, "w", w, g, g.wShape());
        check(op, "y", y, g, g.yShape());
        if (bias != null) {
            check(op, "bias", bias, g, Shape.of(g.k()));
        }
        int m = pixels(op, g), k = g.k(), rsc = g.r() * g.s() * g.c();
        if (g.isPointwise()) {
            gemm.gemm(false, true, m, k, g.c(), 1f, x.data(), w.data(), 0f, y.data(), 0L);
        } else if (winograd != null && WinogradConv.applies(g)) {
            winograd.forward(g, x.data(), w.data(), y.data());
        } else if (stem != null && StemConv.applies(g)) {
            stem.forward(g, x.data(), w.data(), y.data());
        } else {
            view.set(x.data(), g);
            try {
                gemm.run(m, k, rsc, 1f, im2colA, bPanels.asB(w.data(), rsc, k, true), 0f, y.data(), 0L, k);
            } finally {
                release();
            }
        }
        if (bias != null) {
            addBias(y.data(), bias.data(), m, k);
        }
    }

    /**
     * dx += the gradient w.r.t. the input, or dx = it when not {@code accumulate} (dx's old contents
     * ignored). dy (N, P, Q, K), w (K, R, S, C), dx (N, H, W, C).
     */
    public synchronized void backwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        String op = "conv2dBackwardData";
        check(op, "dy", dy, g, g.yShape());
        check(op, "w", w, g, g.wShape());
        check(op, "dx", dx, g, g.xShape());
        int m = pixels(op, g), k = g.k(), c = g.c(), rsc = g.r() * g.s() * c;
        int padH2 = g.dilationH() * (g.r() - 1) - g.padH(), padW2 = g.dilationW() * (g.s() - 1) - g.padW();
        float beta = accumulate ? 1f : 0f;
        if (g.isPointwise()) {
            // dx (NHW, C) (+)= dy (NHW, K) * w (K, C)
            gemm.gemm(false, false, m, c, k, 1f, dy.data(), w.data(), beta, dx.data(), 0L);
        } else if (winograd != null && WinogradConv.applies(g)) {
            winograd.backwardData(g, dy.data(), w.data(), dx.data(), accumulate);
        } else if (g.strideH() == 1 && g.strideW() == 1 && padH2 >= 0 && padW2 >= 0) {
            // dx = conv(dy, rotated w) with stride 1 and padding dilation*(R-1) - pad: an implicit GEMM
            // over dx's pixels (N*H*W rows, R*S*K columns), with beta = 1 to accumulate, 0 to assign.
            int rows = pixels(op, g.n(), g.h(), g.w());
            view.set(dy.data(), g.p(), g.q(), k, g.h(), g.w(), g.r(), g.s(), 1, 1, padH2, padW2,
                    g.dilationH(), g.dilationW());
            try {
                gemm.run(rows, c, g.r() * g.s() * k, 1f, im2colA, flipped.set(w.data(), k, g.r(), g.s(), c), beta,
                        dx.data(), 0L, c);
            } finally {
                release();
            }
        } else {
            // Strided: the scatter-add leaves gaps and adds where windows overlap, so to assign is to
            // zero first.
            if (!accumulate) {
                CpuMemset.zero(parallel, dx.data());
            }
            int block = blockRows(m, rsc);
            ensureWorkspace((long) block * rsc);
            for (int row0 = 0; row0 < m; row0 += block) {
                int rows = Math.min(block, m - row0);
                // dX_col block (rows, RSC) = dy rows (rows, K) * w (K, RSC), then scatter-add.
                MemorySegment dyRows = dy.data().asSlice(4L * row0 * k, 4L * rows * k);
                gemm.gemm(false, false, rows, rsc, k, 1f, dyRows, w.data(), 0f, workspace, 0L);
                final int first = row0, count = rows;
                int parts = Math.max(1, Math.min(parallel.threads(), c / S.length()));
                parallel.forEach(parts, part -> Col2im.scatterAdd(g, workspace, first, count, dx.data(),
                        channelBound(c, part, parts), channelBound(c, part + 1, parts)));
            }
        }
    }

    /** dw += the gradient w.r.t. the filter; db += the sum of dy over (N, P, Q) when db is not null. */
    public synchronized void backwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        String op = "conv2dBackwardFilter";
        check(op, "x", x, g, g.xShape());
        check(op, "dy", dy, g, g.yShape());
        check(op, "dw", dw, g, g.wShape());
        if (db != null) {
            check(op, "db", db, g, Shape.of(g.k()));
        }
        int m = pixels(op, g), k = g.k(), rsc = g.r() * g.s() * g.c();
        if (g.isPointwise() && transposedFilterGradient && transposesFilterGradient(m, k, g.c())) {
            // dw^T (C, K) += x^T (C, NHW) * dy (NHW, K), in the workspace: dw is transposed in and back out,
            // so every element is still ((dw + s0) + s1) + ... over the same k blocks (the same bits).
            int c = g.c();
            ensureWorkspace((long) k * c);
            transpose(dw.data(), workspace, k, c);
            gemm.gemm(true, false, c, k, m, 1f, x.data(), dy.data(), 1f, workspace, 0L);
            transpose(workspace, dw.data(), c, k);
        } else if (g.isPointwise()) {
            // dw (K, C) += dy^T (K, NHW) * x (NHW, C)
            gemm.gemm(true, false, k, g.c(), m, 1f, dy.data(), x.data(), 1f, dw.data(), 0L);
        } else if (winograd != null && WinogradConv.applies(g)) {
            winograd.backwardFilter(g, x.data(), dy.data(), dw.data());
        } else if (stem != null && StemConv.appliesToFilterGradient(g)) {
            stem.backwardFilter(g, x.data(), dy.data(), dw.data());
        } else {
            view.set(x.data(), g);
            try {
                gemm.run(k, rsc, m, 1f, aPanels.asA(dy.data(), k, m, true), im2colB, 1f, dw.data(), 0L, rsc);
            } finally {
                release();
            }
        }
        if (db != null) {
            addColumnSums(dy.data(), db.data(), m, k);
        }
    }

    /**
     * Whether a 1x1 filter gradient over {@code pixels} pixels from C to K channels is computed as dW^T =
     * X^T dY. The GEMM packs its A operand transposed, a gather of six floats from every row (dY's for dW,
     * X's for dW^T), much slower per float than the row copies that pack B; so the narrower tensor should be
     * A. The transposes of dw in and out cost K*C moves each: worth it when the rows saved, pixels * (K - C),
     * are many times that. At least 64 input channels: below that the A panels' six-row padding wastes more
     * than the gather costs (the quick models' layers).
     */
    static boolean transposesFilterGradient(long pixels, int k, int c) {
        return c >= 64 && k > c && pixels * (k - c) >= 16L * k * c;
    }

    // ------------------------------------------------------------------ helpers

    // dst (cols, rows) = src (rows, cols)^T, in 16 x 16 tiles so that both sides stay in a few cache lines.
    private static void transpose(MemorySegment src, MemorySegment dst, int rows, int cols) {
        for (int i0 = 0; i0 < rows; i0 += 16) {
            int i1 = Math.min(rows, i0 + 16);
            for (int j0 = 0; j0 < cols; j0 += 16) {
                int j1 = Math.min(cols, j0 + 16);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) {
                        dst.setAtIndex(CpuGemm.F32, (long) j * rows + i, src.getAtIndex(CpuGemm.F32, (long) i * cols + j));
                    }
                }
            }
        }
    }

    // y (M, K) += bias (K) on every row. Parallel axis: rows.
    private void addBias(MemorySegment y, MemorySegment bias, int m, int k) {
        parallel.forRange(m, (start, end) -> {
            for (long i = start; i < end; i++) {
                long row = 4 * i * k;
                int j = 0;
                for (; j + S.length() <= k; j += S.length()) {
                    FloatVector.fromMemorySegment(S, y, row + 4L * j, LE)
                            .add(FloatVector.fromMemorySegment(S, bias, 4L * j, LE))
                            .intoMemorySegment(y, row + 4L * j, LE);
                }
                for (; j < k; j++) {
                    long o = row + 4L * j;
                    y.set(CpuGemm.F32, o, y.get(CpuGemm.F32, o) + bias.get(CpuGemm.F32, 4L * j));
                }
            }
        });
    }

    // db (K) += column sums of dy (M, K). Parallel axis: rows, one partial sum per part, summed in order.
    private void addColumnSums(MemorySegment dy, MemorySegment db, int m, int k) {
        int parts = (int) Math.max(1, Math.min(parallel.threads(), m));
        for (int t = 0; t < parts; t++) {
            if (partialSums[t] == null || partialSums[t].length < k) {
                partialSums[t] = new float[k];
            }
            Arrays.fill(partialSums[t], 0, k, 0f);
        }
        parallel.forEach(parts, part -> {
            float[] acc = partialSums[part];
            long start = (long) m * part / parts, end = (long) m * (part + 1) / parts;
            for (long i = start; i < end; i++) {
                long row = 4 * i * k;
                int j = 0;
                for (; j + S.length() <= k; j += S.length()) {
                    FloatVector.fromArray(S, acc, j).add(FloatVector.fromMemorySegment(S, dy, row + 4L * j, LE))
                            .intoArray(acc, j);
                }
                for (; j < k; j++) {
                    acc[j] += dy.get(CpuGemm.F32, row + 4L * j);
                }
            }
        });
        for (int t = 0; t < parts; t++) {
            for (int j = 0; j < k; j++) {
                db.set(CpuGemm.F32, 4L * j, db.get(CpuGemm.F32, 4L * j) + partialSums[t][j]);
            }
        }
    }

    private void ensureWorkspace(long floats) {
        if (workspace.byteSize() < 4 * floats) {
            workspace = Arena.ofAuto().allocate(4 * floats, 64);
        }
    }

    private void release() {
        view.clear();
        aPanels.clear();
        bPanels.clear();
        flipped.clear();
    }

    // Rows per column block: as many whole rows as fit BLOCK_FLOATS, at least one.
    private static int blockRows(int m, int rsc) {
        return Math.max(1, Math.min(m, BLOCK_FLOATS / rsc));
    }

    // Channel slice bounds on multiples of 8, so every slice but the last is whole vectors.
    private static int channelBound(int c, int part, int parts) {
        return part == parts ? c : Math.min(c, (c / 8) * part / parts * 8);
    }

    private static int pixels(String op, ConvGeometry g) {
        return pixels(op, g.n(), g.p(), g.q());
    }

    private static int pixels(String op, int n, int p, int q) {
        long m = (long) n * p * q;
        Check.that(m <= Integer.MAX_VALUE, op, "N*P*Q = " + m + " pixels exceeds 2^31-1; split the batch");
        return (int) m;
    }

    private static void check(String op, String arg, Tensor t, ConvGeometry g, Shape want) {
        Check.dtype(op, arg, t, DType.F32);
        if (!t.shape().equals(want)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + t.shape() + " but " + want
                    + " is required for " + g);
        }
    }
}
