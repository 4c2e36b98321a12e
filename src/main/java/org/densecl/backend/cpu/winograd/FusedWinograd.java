package org.densecl.backend.cpu.winograd;

import static org.densecl.backend.cpu.winograd.Winograd43.LANES;
import static org.densecl.backend.cpu.winograd.Winograd43.POINTS;
import static org.densecl.backend.cpu.winograd.Winograd43.TILE;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.gemm.MicroKernel;
import org.densecl.backend.cpu.gemm.VectorGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The forward Winograd convolution out (+)= conv(in, taps), fused tile chunk by tile chunk so that the
 * point matrices never leave the caches:
 * <pre>
 *   once:            U (36 points, cin, cout) = G g G^T, written straight into the micro-kernel's B panels
 *   per chunk of CHUNK tiles, on one thread:
 *     V (36, CHUNK, cin)  = B^T d B        written straight into the micro-kernel's A panels
 *     M_p (CHUNK, cout)   = V_p * U_p      36 small GEMMs, micro-kernel only: nothing left to pack
 *     out                 = A^T M A        (or +=, for the data gradient)
 * </pre>
 * Unfused, V and M of the 56x56 layers are 14 MB each, written and read back through memory, and the
 * transforms cost as much as the GEMMs; a chunk's V and M (36 x 36 x 64 floats each at 64 channels)
 * stay in L2. Chunks go to the threads from a shared counter; each thread has its own V, M and tile.
 */
final class FusedWinograd {
    /** Tiles per chunk: 6 micro-kernel A panels, each B panel (from L1) meeting all of them. */
    static final int CHUNK = 6 * VectorGemm.MR;
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final int MR = VectorGemm.MR;
    private static final int NR = VectorGemm.NR;
    private static final int KC = VectorGemm.KC;

    private final Parallel parallel;
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final float[][] aPanels;    // per part: (36, kBlocks, CHUNK/MR panels, MR, KC) the chunk's V
    private final float[][] products;   // per part: (36, CHUNK, cout) the chunk's M
    private final float[][] tiles;      // per part: (MR, NR) one micro-tile
    private final float[][] work1;      // per part: (36, LANES) a tile's window
    private final float[][] work2;      // per part: (36, LANES) a tile after the column pass
    private float[] bPanels = new float[0]; // (36, kBlocks, cout/NR panels, kc, NR) U

    FusedWinograd(Parallel parallel) {
        this.parallel = parallel;
        int t = parallel.threads();
        aPanels = new float[t][0];
        products = new float[t][0];
        tiles = new float[t][MR * NR];
        work1 = new float[t][POINTS * LANES];
        work2 = new float[t][POINTS * LANES];
    }

    /** out (N, h, w, cout) = (or += when {@code add}) conv(in (N, h, w, cin), taps (9, cin, cout)). */
    void convolve(ConvGeometry g, MemorySegment in, int cin, int cout, float[] taps, MemorySegment out,
                  boolean add) {
        int kBlocks = ceilDiv(cin, KC), panels = ceilDiv(cout, NR);
        int blockStride = panels * KC * NR;                 // floats per (point, k block) of U
        bPanels = atLeast(bPanels, (long) POINTS * kBlocks * blockStride);
        int rowParts = Math.max(1, Math.min(parallel.threads(), cin));
        parallel.forEach(rowParts, part -> packFilter(taps, cin, cout, cin * part / rowParts,
                cin * (part + 1) / rowParts, kBlocks, blockStride, part));

        int th = ceilDiv(g.h(), TILE), tw = ceilDiv(g.w(), TILE);
        int tileCount = g.n() * th * tw, chunks = ceilDiv(tileCount, CHUNK);
        nextChunk.set(0);
        parallel.forEach(parallel.threads(), part -> {
            aPanels[part] = atLeast(aPanels[part], (long) POINTS * kBlocks * CHUNK * KC);
            products[part] = atLeast(products[part], (long) POINTS * CHUNK * cout);
            for (int ch = nextChunk.getAndIncrement(); ch < chunks; ch = nextChunk.getAndIncrement()) {
                int t0 = ch * CHUNK, count = Math.min(CHUNK, tileCount - t0);
                chunk(g, in, cin, cout, out, add, t0, count, th, tw, kBlocks, blockStride, part);
            }
        });
    }

    // U_p in B panels: point p, k block kb, panel j, row r (channel kb*KC + r) at
    // (p*kBlocks + kb)*blockStride + j*kc*NR + r*NR, where kc is the block's row count.
    private void packFilter(float[] taps, int cin, int cout, int c0, int c1, int kBlocks, int blockStride, int part) {
        float[] tmp = work2[part];
        int tapStride = cin * cout, pointStride = kBlocks * blockStride;
        for (int c = c0; c < c1; c++) {
            int kb = c / KC, kc = Math.min(KC, cin - kb * KC), r = c - kb * KC;
            for (int k0 = 0; k0 < cout; k0 += LANES) {
                int j = k0 / NR;
                int d0 = kb * blockStride + j * kc * NR + r * NR + (k0 - j * NR);
                WinogradTiles.filter(taps, c * cout + k0, tapStride, tmp, bPanels, d0, pointStride);
            }
        }
    }

    // One chunk of tiles [t0, t0 + count): input transform, 36 GEMMs, output transform.
    private void chunk(ConvGeometry g, MemorySegment in, int cin, int cout, MemorySegment out, boolean add,
                       int t0, int count, int th, int tw, int kBlocks, int blockStride, int part) {
        float[] a = aPanels[part], m = products[part], tile = tiles[part], d = work1[part], tmp = work2[part];
        int h = g.h(), w = g.w();
        // V: point p, k block kb, tile i of the chunk, channel kb*KC + r at ((p*kBlocks + kb)*CHUNK + i)*KC + r
        // (A panels of MR rows KC apart, as MicroKernel.multiply reads them).
        int aPointStride = kBlocks * CHUNK * KC;
        for (int i = 0; i < count; i++) {
            int t = t0 + i, n = t / (th * tw), ty = t / tw % th, tx = t % tw;
            for (int c0 = 0; c0 < cin; c0 += LANES) {
                int kb = c0 / KC;
                WinogradTiles.input(in, h, w, cin, n, ty, tx, c0, d, tmp, a, (kb * CHUNK + i) * KC + c0 - kb * KC,
                        aPointStride);
            }
        }
        int aPanelCount = ceilDiv(count, MR), panels = ceilDiv(cout, NR);
        for (int p = 0; p < POINTS; p++) {
            for (int kb = 0; kb < kBlocks; kb++) {
                int kc = Math.min(KC, cin - kb * KC);
                int aBase = (p * kBlocks + kb) * CHUNK * KC, bBase = (p * kBlocks + kb) * blockStride;
                for (int j = 0; j < panels; j++) {
                    int cols = Math.min(NR, cout - j * NR);
                    for (int q = 0; q < aPanelCount; q++) {
                        int at = (p * CHUNK + q * MR) * cout + j * NR;
                        if (cols == NR) {
                            MicroKernel.multiplyIntoArray(kc, a, aBase + q * MR * KC, bPanels, bBase + j * kc * NR, m, at,
                                    cout, kb > 0);
                        } else {
                            MicroKernel.multiply(kc, a, aBase + q * MR * KC, bPanels, bBase + j * kc * NR, tile);
                            store(tile, m, at, cout, cols, kb > 0);
                        }
                    }
                }
            }
        }
        int pointStride = CHUNK * cout;
        for (int i = 0; i < count; i++) {
            int t = t0 + i, n = t / (th * tw), ty = t / tw % th, tx = t % tw;
            for (int k0 = 0; k0 < cout; k0 += LANES) {
                WinogradTiles.output(m, i * cout + k0, pointStride, tmp, d, out, h, w, cout, n, ty, tx, k0, add);
            }
        }
    }

    // M rows (MR of them, cout apart) at `at` = (or += when accumulate) the micro-tile's first `cols` columns.
    private static void store(float[] tile, float[] m, int at, int cout, int cols, boolean accumulate) {
        for (int r = 0; r < MR; r++) {
            for (int h = 0; h < cols; h += LANES) {
                FloatVector v = FloatVector.fromArray(S, tile, r * NR + h);
                int o = at + r * cout + h;
                if (accumulate) {
                    v = v.add(FloatVector.fromArray(S, m, o));
                }
                v.intoArray(m, o);
            }
        }
    }

    static float[] atLeast(float[] a, long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("winograd conv: " + n + " floats of scratch exceed a Java array;"
                    + " use a smaller batch");
        }
        return a.length >= n ? a : new float[(int) n];
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
