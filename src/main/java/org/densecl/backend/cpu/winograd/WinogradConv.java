package org.densecl.backend.cpu.winograd;

import static org.densecl.backend.cpu.winograd.Winograd43.ALPHA;
import static org.densecl.backend.cpu.winograd.Winograd43.LANES;
import static org.densecl.backend.cpu.winograd.Winograd43.POINTS;
import static org.densecl.backend.cpu.winograd.Winograd43.TILE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.gemm.GemmTuning;
import org.densecl.backend.cpu.gemm.VectorGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * 3x3, stride-1, pad-1 convolutions (ResNet's bottleneck conv2, in every block but a stage's strided
 * first one) by Winograd's F(4x4, 3x3) ({@link Winograd43}): 4x fewer multiplications than the implicit
 * GEMM where the 4x4 tiles fit the image (56x56, 28x28), 3x at 14x14, in all three passes.
 * <pre>
 *   T = N * ceil(H/4) * ceil(W/4) tiles of 4x4 outputs, each computed from a 6x6 input window
 *   forward          V (36, T, C) = B^T d B per tile      U (36, C, K) = G g G^T per filter
 *                    M_p (T, K) = V_p (T, C) * U_p (C, K) for each point p     y = A^T M A per tile
 *   backward data    the same with dy as input and the filter rotated by 180 degrees with C and K swapped
 *                    (a stride-1 data gradient is that convolution); dx += the result
 *   backward filter  V from x as above                    Mbar (36, T, K) = A e A^T per tile e of dy
 *                    dU_p (K, C) = Mbar_p^T (K, T) * V_p (T, C)            dw += G^T dU G per filter
 * </pre>
 * The forward and data passes run fused, chunk of tiles by chunk ({@link FusedWinograd}). The filter
 * pass sums over all tiles, so it materialises V and Mbar and runs one GEMM per point, the 36 GEMMs
 * spread over the threads. It is the exact adjoint of the forward's computation, hence the exact
 * gradient of the convolution (in exact arithmetic Winograd's output is the direct convolution's).
 *
 * <p>Channels go in vectors of LANES (8 or 16) along C or K (contiguous in NHWC and KRSC), so both channel counts
 * must be multiples of LANES ({@link #applies}). Rounding: the transforms' coefficients (up to 8 in A^T,
 * 5 in B^T) enlarge the float32 rounding of the products, about ten times the implicit GEMM's error as
 * Lavin and Gray report for F(4x4, 3x3) (docs/performance.md); WinogradConvTest bounds it.
 */
public final class WinogradConv {
    /**
     * Below this many channels the point GEMMs are too short (k = C) for the micro-kernel, and the
     * transforms cost as much as the multiplications saved (docs/performance.md).
     */
    static final int MIN_CHANNELS = 32;
    /**
     * Below this many tiles the filter transform (36 C K floats, 38 MB at 512 channels) costs as much as
     * the multiplications saved, e.g. ResNet-50's 7x7 layers at batch 8 (32 tiles).
     */
    static final int MIN_TILES = 128;
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private final Parallel parallel;
    private final FusedWinograd fused;
    private final VectorGemm[] gemms;       // per part: a single-threaded GEMM (the parts share the points)
    private final ArrayPanels[] aPanels;    // per part: the A operand of its current point
    private final ArrayPanels[] bPanels;    // per part: the B operand of its current point
    private final AtomicInteger nextPoint = new AtomicInteger();
    private final float[][] work1;          // per part: (36, LANES) tile work array
    private final float[][] work2;          // per part: (36, LANES) tile work array
    private final float[][] rowBuffers;     // per part: (8, 9, C) eight filters being transposed
    private float[] taps = new float[0];       // (9, rows, cols): the filter, taps first
    // Filter gradient: V (36, T, C) from x, Mbar (36, T, K) from dy, dU (36, K, C).
    private float[] pointsX = new float[0];
    private float[] pointsDy = new float[0];
    // dU (36, K, C), the GEMMs' C. Off the Java heap on purpose: a heap segment (MemorySegment.ofArray)
    // reaching the Vector API's segment loads and stores makes their type profile, which every caller in
    // the process shares, see two segment classes, and code C2 compiles after that (SGD, batch norm, any
    // elementwise loop) reads memory through a type switch (see CpuVec.f32).
    private MemorySegment pointsDw = MemorySegment.NULL;

    public WinogradConv(Parallel parallel, GemmTuning paths) {
        this.parallel = parallel;
        this.fused = new FusedWinograd(parallel);
        int t = parallel.threads();
        this.gemms = new VectorGemm[t];
        this.aPanels = new ArrayPanels[t];
        this.bPanels = new ArrayPanels[t];
        this.work1 = new float[t][POINTS * LANES];
        this.work2 = new float[t][POINTS * LANES];
        this.rowBuffers = new float[t][0];
        for (int i = 0; i < t; i++) {
            gemms[i] = new VectorGemm(new Parallel(1), paths); // a one-thread pool starts no thread
            aPanels[i] = new ArrayPanels();
            bPanels[i] = new ArrayPanels();
        }
    }

    /**
     * True for the convolutions computed here: 3x3, stride 1, pad 1, dilation 1, C and K multiples of LANES
     * and at least {@link #MIN_CHANNELS}, at least {@link #MIN_TILES} tiles.
     */
    public static boolean applies(ConvGeometry g) {
        return g.r() == 3 && g.s() == 3 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 1 && g.padW() == 1
                && g.dilationH() == 1 && g.dilationW() == 1 && g.c() % LANES == 0 && g.k() % LANES == 0
                && g.c() >= MIN_CHANNELS && g.k() >= MIN_CHANNELS && tiles(g) >= MIN_TILES;
    }

    /** y (N, H, W, K) = conv(x (N, H, W, C), w (K, 3, 3, C)); y is overwritten. */
    public void forward(ConvGeometry g, MemorySegment x, MemorySegment w, MemorySegment y) {
        int c = g.c(), k = g.k();
        taps = FusedWinograd.atLeast(taps, 9L * c * k);
        parts(k / LANES, (part, b0, b1) -> stageTransposed(w, c, k, b0 * LANES, b1 * LANES, part));
        fused.convolve(g, x, c, k, taps, y, false);
    }

    /**
     * dx (N, H, W, C) += the data gradient for dy (N, H, W, K) and w (K, 3, 3, C), or dx = it when not
     * {@code accumulate}.
     */
    public void backwardData(ConvGeometry g, MemorySegment dy, MemorySegment w, MemorySegment dx, boolean accumulate) {
        int c = g.c(), k = g.k();
        taps = FusedWinograd.atLeast(taps, 9L * c * k);
        parts(k, (part, k0, k1) -> stageRotated(w, c, k, k0, k1));
        fused.convolve(g, dy, k, c, taps, dx, accumulate);
    }

    /** dw (K, 3, 3, C) += the filter gradient for x (N, H, W, C) and dy (N, H, W, K). */
    public void backwardFilter(ConvGeometry g, MemorySegment x, MemorySegment dy, MemorySegment dw) {
        int c = g.c(), k = g.k(), tiles = tiles(g);
        pointsX = FusedWinograd.atLeast(pointsX, (long) POINTS * tiles * c);
        pointsDy = FusedWinograd.atLeast(pointsDy, (long) POINTS * tiles * k);
        if (pointsDw.byteSize() < 4L * POINTS * k * c) {
            pointsDw = Arena.ofAuto().allocate(4L * POINTS * k * c, 64);
        }
        parts(tiles, (part, t0, t1) -> transformInput(g, x, c, tiles, t0, t1, part));
        parts(tiles, (part, t0, t1) -> transformOutputGradient(g, dy, k, tiles, t0, t1, part));
        // dU_p (K, C) = Mbar_p^T (K, T) * V_p (T, C), the 36 GEMMs handed out one at a time to the threads,
        // each GEMM on one thread: one hand-off in all, instead of two barriers per GEMM split over threads.
        nextPoint.set(0);
        parallel.forEach(parallel.threads(), part -> {
            for (int p = nextPoint.getAndIncrement(); p < POINTS; p = nextPoint.getAndIncrement()) {
                gemms[part].run(k, c, tiles, 1f, aPanels[part].asA(pointsDy, p * tiles * k, k, tiles, true),
                        bPanels[part].asB(pointsX, p * tiles * c, c), 0f, pointsDw, 4L * p * k * c, c);
            }
            aPanels[part].clear();
            bPanels[part].clear();
        });
        parts(k, (part, k0, k1) -> accumulateFilterGradient(dw, c, k, k0, k1, part));
    }

    // ------------------------------------------------------------------ filter staging (taps first)

    // taps[(rs*C + c)*K + k] = w[k][rs][c] for k in [k0, k1): eight filters at a time are copied to a
    // row buffer, then each (rs, c) takes its 8 values, one per filter, to 8 neighbouring floats. (Not a
    // Vector API gather: C2 does not intrinsify it on AVX2.)
    private void stageTransposed(MemorySegment w, int c, int k, int k0, int k1, int part) {
        int row = 9 * c;
        if (rowBuffers[part].length < LANES * row) {
            rowBuffers[part] = new float[LANES * row];
        }
        float[] buf = rowBuffers[part];                 // (8, 9, C)
        for (int kb = k0; kb < k1; kb += LANES) {
            MemorySegment.copy(w, F32, 4L * kb * row, buf, 0, LANES * row);
            for (int src = 0; src < row; src++) {       // src = rs*C + c
                int dst = src * k + kb;
                for (int i = 0; i < LANES; i++) {
                    taps[dst + i] = buf[src + i * row];
                }
            }
        }
    }

    // taps[(rs*K + k)*C + c] = w[k][8 - rs][c]: the filter rotated by 180 degrees, for the data gradient.
    private void stageRotated(MemorySegment w, int c, int k, int k0, int k1) {
        for (int ki = k0; ki < k1; ki++) {
            for (int rs = 0; rs < 9; rs++) {
                MemorySegment.copy(w, F32, 4L * ((long) ki * 9 + 8 - rs) * c, taps, (rs * k + ki) * c, c);
            }
        }
    }

    // ------------------------------------------------------------------ filter gradient transforms

    // V (36, T, C) for tiles [t0, t1).
    private void transformInput(ConvGeometry g, MemorySegment x, int c, int tiles, int t0, int t1, int part) {
        int th = ceilDiv(g.h(), TILE), tw = ceilDiv(g.w(), TILE);
        for (int t = t0; t < t1; t++) {
            int n = t / (th * tw), ty = t / tw % th, tx = t % tw;
            for (int c0 = 0; c0 < c; c0 += LANES) {
                WinogradTiles.input(x, g.h(), g.w(), c, n, ty, tx, c0, work1[part], work2[part], pointsX, t * c + c0,
                        tiles * c);
            }
        }
    }

    // Mbar (36, T, K) = A e A^T for tiles [t0, t1), e the 4x4 tile of dy (zero past the image edge: those
    // outputs were dropped by the forward, so they have no gradient).
    private void transformOutputGradient(ConvGeometry g, MemorySegment dy, int k, int tiles, int t0, int t1,
                                         int part) {
        float[] e = work1[part], tmp = work2[part];  // (4, 4, LANES) and (6, 4, LANES)
        int h = g.h(), w = g.w(), plane = tiles * k;
        int th = ceilDiv(h, TILE), tw = ceilDiv(w, TILE);
        for (int t = t0; t < t1; t++) {
            int n = t / (th * tw), ty = t / tw % th, tx = t % tw;
            for (int k0 = 0; k0 < k; k0 += LANES) {
                for (int a = 0; a < TILE; a++) {
                    int hh = ty * TILE + a;
                    for (int b = 0; b < TILE; b++) {
                        int ww = tx * TILE + b;
                        FloatVector v = hh < h && ww < w
                                ? FloatVector.fromMemorySegment(S, dy, 4L * (((long) (n * h + hh) * w + ww) * k + k0), LE)
                                : FloatVector.zero(S);
                        v.intoArray(e, (a * TILE + b) * LANES);
                    }
                }
                for (int b = 0; b < TILE; b++) {
                    Winograd43.outputAdjoint(e, b * LANES, TILE * LANES, tmp, b * LANES, TILE * LANES);
                }
                int base = t * k + k0;
                for (int i = 0; i < ALPHA; i++) {
                    Winograd43.outputAdjoint(tmp, i * TILE * LANES, LANES, pointsDy, i * ALPHA * plane + base, plane);
                }
            }
        }
    }

    // dw[k][r][s][c] += (G^T dU G)[r][s] for filters [k0, k1).
    private void accumulateFilterGradient(MemorySegment dw, int c, int k, int k0, int k1, int part) {
        float[] tmp = work2[part], out = work1[part];  // (3, 6, LANES) and (3, 3, LANES)
        int plane = k * c;
        for (int ki = k0; ki < k1; ki++) {
            for (int c0 = 0; c0 < c; c0 += LANES) {
                int base = ki * c + c0;
                for (int j = 0; j < ALPHA; j++) {
                    // dU[i][j] for i = 0..5, staged in out (free until the r loop) for the array transform.
                    for (int i = 0; i < ALPHA; i++) {
                        long off = 4L * ((long) (i * ALPHA + j) * plane + base);
                        FloatVector.fromMemorySegment(S, pointsDw, off, LE).intoArray(out, i * LANES);
                    }
                    Winograd43.filterAdjoint(out, 0, LANES, tmp, j * LANES, ALPHA * LANES);
                }
                for (int r = 0; r < 3; r++) {
                    Winograd43.filterAdjoint(tmp, r * ALPHA * LANES, LANES, out, r * 3 * LANES, LANES);
                }
                for (int rs = 0; rs < 9; rs++) {
                    long off = 4L * (((long) ki * 9 + rs) * c + c0);
                    FloatVector.fromArray(S, out, rs * LANES).add(FloatVector.fromMemorySegment(S, dw, off, LE))
                            .intoMemorySegment(dw, off, LE);
                }
            }
        }
    }

    // ------------------------------------------------------------------ plumbing

    private interface RangeBody {
        void run(int part, int start, int end);
    }

    // body(part, start, end) over [0, n) in one contiguous range per thread.
    private void parts(int n, RangeBody body) {
        int parts = Math.max(1, Math.min(parallel.threads(), n));
        parallel.forEach(parts, p -> body.run(p, (int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts)));
    }

    static int tiles(ConvGeometry g) {
        long t = (long) g.n() * ceilDiv(g.h(), TILE) * ceilDiv(g.w(), TILE);
        return (int) Math.min(Integer.MAX_VALUE, t);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
