package org.densecl.backend.cpu.gemm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * Forward and filter gradient of ResNet's RGB stem (7x7, stride 2, 3 channels) as direct convolutions.
 * Forward: the micro-kernel
 * reads each output pixel's receptive field straight from a zero-padded copy of the input, so nothing is
 * packed per row block. Through the implicit GEMM, each A panel of the stem is 6 pixels x 147 taps
 * gathered in 42 runs of 21 floats, a large share of the stem's time for only 2 x 64 FLOPs per gathered
 * float; here the input is copied once per call.
 *
 * <p>Why it works: with C = 3 and stride 2, the receptive fields of neighbouring output pixels in a row
 * start {@link #STEP} = 6 floats apart in the padded input, and each kernel row of a field is S*C = 21
 * contiguous floats. So the 6 pixels of a tile are 6 constant displacements from one index, as the 6
 * rows of a packed panel are ({@link MicroKernel#multiplyPatchesInto}). The taps run in (R, S, C) order
 * in one block (R*S*C = 147 <= KC), as the GEMM's k loop runs them: the same FMA chains, the same bits.
 *
 * <pre>
 *   padded  (N, H + 2 padH, W + 2 padW, C) float[], the borders zero; plus slack for the last tile's reads
 *   panels  (ceil(K / NR), R*S*C, NR)       the filter as B panels, zeros past the K filters
 *   y       (N, P, Q, K)                    6 pixels x NR channels per kernel call
 * </pre>
 * Parallel over output rows (n, p), handed out from a shared counter. The filter gradient reads the same
 * padded copy the other way round, six taps of one pixel as an A panel's six rows
 * ({@link #backwardFilter}); parallel over dW's columns.
 */
public final class StemConv {
    /** Floats between the receptive fields of neighbouring output pixels: C * strideW. */
    static final int STEP = 6;
    private static final int MR = MicroKernel.MR;
    private static final int NR = MicroKernel.NR;
    private static final int KC = VectorGemm.KC;
    private static final int L = Lanes.COUNT;
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Output rows per hand-out from the counter. */
    private static final int ROWS_PER_CLAIM = 4;

    private final Parallel parallel;
    private final MemorySegment[] edgeTiles; // per thread: (MR, NR) for a row's last, partial tile
    private final float[][] dyRuns;          // per thread: (KC, NR) a B panel of dY for one run of pixels
    private MemorySegment sums = MemorySegment.NULL; // (R * G * MR, K) dW^T of the filter gradient in flight
    private final AtomicInteger nextRow = new AtomicInteger();
    private float[] padded = new float[0];
    private float[] panels = new float[0];
    // The layout whose zero borders `padded` holds: (H, W, C, padH, padW). Not N, nor K: an image count
    // that grows or shrinks keeps the borders of the images both have (images past the old count are
    // fresh zeros, or borders never written), so encoders at different batches share one copy.
    private final int[] paddedFor = new int[5];

    public StemConv(Parallel parallel) {
        this.parallel = parallel;
        this.edgeTiles = new MemorySegment[parallel.threads()];
        this.dyRuns = new float[parallel.threads()][];
        for (int t = 0; t < edgeTiles.length; t++) {
            edgeTiles[t] = Arena.ofAuto().allocate(4L * MR * NR, 64);
        }
    }

    /**
     * True for the convolutions done here: C * strideW = {@link #STEP}, no dilation, R*S*C within one k
     * block, at least one whole tile per output row. K need not fill whole panels (the quick recipes' 8-channel
     * stem): the last panel's columns past K are zeros, and its tiles go through the edge tile.
     */
    public static boolean applies(ConvGeometry g) {
        return g.c() * g.strideW() == STEP && g.dilationH() == 1 && g.dilationW() == 1
                && g.r() * g.s() * g.c() <= VectorGemm.KC && g.q() >= MR;
    }

    /** y (N, P, Q, K) = conv(x (N, H, W, C), w (K, R, S, C)); y is overwritten. */
    public void forward(ConvGeometry g, MemorySegment x, MemorySegment w, MemorySegment y) {
        int rsc = g.r() * g.s() * g.c();
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW();
        padInput(g, x, hp, wp);
        int panelFloats = Math.ceilDiv(g.k(), NR) * NR * rsc;
        panels = panels.length >= panelFloats ? panels : new float[panelFloats];
        packFilter(w, g.k(), rsc);
        nextRow.set(0);
        parallel.forEach(parallel.threads(), part -> convolveRows(g, y, hp, wp, part));
    }

    /** True for the filter gradients done here: the forward's convolutions with K in whole B panels. */
    public static boolean appliesToFilterGradient(ConvGeometry g) {
        return applies(g) && g.k() % NR == 0;
    }

    /**
     * dw (K, R, S, C) += the filter gradient, as its transpose dW^T (taps, K) = X_col^T dY. Each output row's
     * pixels are one k run whose A panel is the padded input itself: six neighbouring taps of a kernel row
     * are six adjacent floats, and the next pixel's are {@link #STEP} = MR floats on, the interleaved
     * panel layout. So nothing is gathered; through the GEMM, every pixel's 147 taps were. A kernel row's
     * S*C taps take whole 6-tap groups (21 -> 24 rows: the last 3 rows of each are other pixels' inputs,
     * computed and dropped). The sum runs over output rows in order, in runs of at most KC pixels, for any
     * number of threads: each element of dW^T is one thread's.
     * <pre>
     *   sums   (R * G * MR, K) dW^T, G = ceil(S*C / MR) tap groups per kernel row; dw transposed in and out
     *   dyRun  (run, NR)       per thread: one B panel of dY's rows for one run of pixels
     * </pre>
     */
    public void backwardFilter(ConvGeometry g, MemorySegment x, MemorySegment dy, MemorySegment dw) {
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW();
        padInput(g, x, hp, wp);
        int tapRows = g.r() * groupsPerKernelRow(g) * MR;
        long bytes = 4L * tapRows * g.k();
        if (sums.byteSize() < bytes) {
            sums = Arena.ofAuto().allocate(bytes, 64);
        }
        transposeFilter(g, dw, true);
        int colPanels = g.k() / NR, slices = Math.max(1, parallel.threads() / colPanels);
        parallel.forEach(parallel.threads(), part -> {
            for (int unit = part; unit < colPanels * slices; unit += parallel.threads()) {
                accumulateRows(g, dy, hp, wp, unit / slices, unit % slices, slices, part);
            }
        });
        transposeFilter(g, dw, false);
    }

    private static int groupsPerKernelRow(ConvGeometry g) {
        return Math.ceilDiv(g.s() * g.c(), MR);
    }

    // Column panel `panel` of dW^T, tap panels of slice `slice` (of `slices`): over every output row in order,
    // the row's pixels in runs of at most KC, each run's dY columns copied into this thread's B panel.
    private void accumulateRows(ConvGeometry g, MemorySegment dy, int hp, int wp, int panel, int slice, int slices,
                                int part) {
        int k = g.k(), q = g.q(), groups = groupsPerKernelRow(g), tapPanels = g.r() * groups;
        int t0 = tapPanels * slice / slices, t1 = tapPanels * (slice + 1) / slices;
        int rowStride = wp * g.c();
        long ldt = 4L * k;
        float[] dyRun = dyRuns[part] != null ? dyRuns[part] : (dyRuns[part] = new float[KC * NR + 32]);
        for (int row = 0; row < g.n() * g.p(); row++) {
            int n = row / g.p(), op = row - n * g.p();
            int in = (n * hp + op * g.strideH()) * rowStride; // the row's first field, padded coordinates
            for (int oq = 0; oq < q; oq += KC) {
                int run = Math.min(KC, q - oq);
                long src = 4L * (((long) row * q + oq) * k + panel * NR);
                for (int i = 0; i < run; i++, src += ldt) {
                    FloatVector.fromMemorySegment(S, dy, src, LE).intoArray(dyRun, i * NR);
                    FloatVector.fromMemorySegment(S, dy, src + 4L * L, LE).intoArray(dyRun, i * NR + L);
                }
                for (int tp = t0; tp < t1; tp++) {
                    int r = tp / groups, group = tp - r * groups;
                    int ai = in + r * rowStride + group * MR + oq * STEP;
                    MicroKernel.multiplyInterleavedInto(run, padded, ai, dyRun, 0, sums,
                            4L * tp * MR * k + 4L * panel * NR, ldt, true);
                }
            }
        }
    }

    // toSums: sums (tap rows, K) = dw (K, taps)^T, zero in each kernel row's rows past its S*C taps;
    // otherwise dw = the taps' rows of sums, transposed back.
    private void transposeFilter(ConvGeometry g, MemorySegment dw, boolean toSums) {
        int k = g.k(), sc = g.s() * g.c(), rowTaps = groupsPerKernelRow(g) * MR, rsc = g.r() * sc;
        for (int r = 0; r < g.r(); r++) {
            for (int j = 0; j < rowTaps; j++) {
                long sumsRow = (long) (r * rowTaps + j) * k;
                for (int f = 0; f < k; f++) {
                    long w = (long) f * rsc + r * sc + j;
                    if (toSums) {
                        sums.setAtIndex(MatrixPanels.F32, sumsRow + f, j < sc ? dw.getAtIndex(MatrixPanels.F32, w) : 0f);
                    } else if (j < sc) {
                        dw.setAtIndex(MatrixPanels.F32, w, sums.getAtIndex(MatrixPanels.F32, sumsRow + f));
                    }
                }
            }
        }
    }

    // The zero-padded copy of x, its borders kept from the last call when the layout is the same.
    private void padInput(ConvGeometry g, MemorySegment x, int hp, int wp) {
        int c = g.c(), rsc = g.r() * g.s() * c;
        // Slack past the end: the last row's partial tile reads up to 6 pixels' fields beyond its row.
        int floats = Math.addExact(Math.multiplyExact(g.n() * hp, wp * c), MR * STEP + rsc);
        boolean sameLayout = paddedFor[0] == g.h() && paddedFor[1] == g.w() && paddedFor[2] == c
                && paddedFor[3] == g.padH() && paddedFor[4] == g.padW();
        if (padded.length < floats) {
            padded = new float[floats];
        } else if (!sameLayout) {
            Arrays.fill(padded, 0f);
        }
        paddedFor[0] = g.h();
        paddedFor[1] = g.w();
        paddedFor[2] = c;
        paddedFor[3] = g.padH();
        paddedFor[4] = g.padW();
        parallel.forRange((long) g.n() * g.h(), (r0, r1) -> copyRows(g, x, (int) r0, (int) r1, hp, wp));
    }

    // Input rows [r0, r1) of (N*H) into the interior of the padded copy.
    private void copyRows(ConvGeometry g, MemorySegment x, int r0, int r1, int hp, int wp) {
        int c = g.c(), h = g.h();
        for (int r = r0; r < r1; r++) {
            int n = r / h, ih = r - n * h;
            int dst = ((n * hp + ih + g.padH()) * wp + g.padW()) * c;
            MemorySegment.copy(x, MatrixPanels.F32, 4L * r * g.w() * c, padded, dst, g.w() * c);
        }
    }

    // panels[q][p][t] = w[q * NR + t][p]: filter k's taps down panel q's column t; 0 past the K filters.
    private void packFilter(MemorySegment w, int k, int rsc) {
        for (int q = 0; q < Math.ceilDiv(k, NR); q++) {
            for (int t = 0; t < NR; t++) {
                long src = (long) (q * NR + t) * rsc;
                int dst = q * rsc * NR + t;
                boolean filter = q * NR + t < k;
                for (int p = 0; p < rsc; p++) {
                    panels[dst + p * NR] = filter ? w.getAtIndex(MatrixPanels.F32, src + p) : 0f;
                }
            }
        }
    }

    // Takes output rows (n, p) from the counter: each B panel (NR channels) over the row's tiles, so the
    // panel (R*S*C x NR floats) and the row's R input rows stay in L1.
    private void convolveRows(ConvGeometry g, MemorySegment y, int hp, int wp, int part) {
        int c = g.c(), k = g.k(), q = g.q(), rsc = g.r() * g.s() * c;
        int rows = g.n() * g.p(), rowLen = g.s() * c, rowStride = wp * c;
        long ldc = 4L * k;
        MemorySegment edge = edgeTiles[part];
        for (int r0 = nextRow.getAndAdd(ROWS_PER_CLAIM); r0 < rows; r0 = nextRow.getAndAdd(ROWS_PER_CLAIM)) {
            for (int row = r0; row < Math.min(rows, r0 + ROWS_PER_CLAIM); row++) {
                int n = row / g.p(), op = row - n * g.p();
                int in = (n * hp + op * g.strideH()) * rowStride; // the row's first field, padded coordinates
                long out = ldc * row * q;
                for (int panel = 0; panel < Math.ceilDiv(k, NR); panel++) {
                    int bi = panel * rsc * NR;
                    long col = 4L * panel * NR;
                    long cols = 4L * Math.min(NR, k - panel * NR); // bytes of the panel's columns that are filters
                    for (int oq = 0; oq < q; oq += MR) {
                        int ai = in + oq * STEP;
                        if (oq + MR <= q && cols == 4L * NR) {
                            MicroKernel.multiplyPatchesInto(g.r(), rowLen, rowStride, padded, ai, panels, bi, y,
                                    out + oq * ldc + col, ldc);
                        } else {
                            MicroKernel.multiplyPatchesInto(g.r(), rowLen, rowStride, padded, ai, panels, bi, edge,
                                    0L, 4L * NR);
                            for (int t = 0; t < Math.min(MR, q - oq); t++) {
                                MemorySegment.copy(edge, 4L * t * NR, y, out + (oq + t) * ldc + col, cols);
                            }
                        }
                    }
                }
            }
        }
    }
}
