package org.densecl.backend.cpu.winograd;

import static org.densecl.backend.cpu.winograd.Winograd43.ALPHA;
import static org.densecl.backend.cpu.winograd.Winograd43.LANES;
import static org.densecl.backend.cpu.winograd.Winograd43.TILE;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The 2-D F(4x4, 3x3) transforms of one tile and 8 channels, as two passes of {@link Winograd43}'s 1-D
 * transforms (columns, then rows). The 36 results of a tile go to {@code dst[d0 + p * ds]} for point
 * p = 6 i + j, so the caller picks the layout (plain point matrices or the micro-kernel's packed panels).
 */
final class WinogradTiles {
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private WinogradTiles() {}

    /**
     * B^T d B for the 6x6 window at rows 4 ty - 1 .. 4 ty + 4, columns 4 tx - 1 .. 4 tx + 4 of image n of
     * {@code in} (N, h, w, c), channels c0..c0+7; pixels outside the image are the convolution's zero padding.
     * {@code d} and {@code tmp} are (6, 6, LANES) work arrays.
     */
    static void input(MemorySegment in, int h, int w, int c, int n, int ty, int tx, int c0, float[] d, float[] tmp,
                      float[] dst, int d0, int ds) {
        int h0 = ty * TILE - 1, w0 = tx * TILE - 1;
        for (int i = 0; i < ALPHA; i++) {
            int hh = h0 + i;
            for (int j = 0; j < ALPHA; j++) {
                int ww = w0 + j;
                FloatVector v = hh >= 0 && hh < h && ww >= 0 && ww < w
                        ? FloatVector.fromMemorySegment(S, in, 4L * (((long) (n * h + hh) * w + ww) * c + c0), LE)
                        : FloatVector.zero(S);
                v.intoArray(d, (i * ALPHA + j) * LANES);
            }
        }
        for (int j = 0; j < ALPHA; j++) {
            Winograd43.inputTransform(d, j * LANES, ALPHA * LANES, tmp, j * LANES, ALPHA * LANES);
        }
        for (int i = 0; i < ALPHA; i++) {
            Winograd43.inputTransform(tmp, i * ALPHA * LANES, LANES, dst, d0 + i * ALPHA * ds, ds);
        }
    }

    /**
     * G g G^T for one filter row and 8 columns of {@code taps}: tap (r, s) at {@code taps[base + (3 r + s) *
     * tapStride]}. {@code tmp} is a (6, 3, LANES) work array.
     */
    static void filter(float[] taps, int base, int tapStride, float[] tmp, float[] dst, int d0, int ds) {
        for (int s = 0; s < 3; s++) {
            Winograd43.filterTransform(taps, base + s * tapStride, 3 * tapStride, tmp, s * LANES, 3 * LANES);
        }
        for (int i = 0; i < ALPHA; i++) {
            Winograd43.filterTransform(tmp, i * 3 * LANES, LANES, dst, d0 + i * ALPHA * ds, ds);
        }
    }

    /**
     * A^T M A for one tile, point p read from {@code src[s0 + p * ss]}, written (or added, when
     * {@code add}) to rows 4 ty.., columns 4 tx.. of image n of {@code out} (N, h, w, c), channels k0..k0+7;
     * outputs past the image edge are dropped. {@code tmp} is (4, 6, LANES), {@code y} (4, 4, LANES).
     */
    static void output(float[] src, int s0, int ss, float[] tmp, float[] y, MemorySegment out, int h, int w, int c,
                       int n, int ty, int tx, int k0, boolean add) {
        for (int j = 0; j < ALPHA; j++) {
            Winograd43.outputTransform(src, s0 + j * ss, ALPHA * ss, tmp, j * LANES, ALPHA * LANES);
        }
        for (int a = 0; a < TILE; a++) {
            Winograd43.outputTransform(tmp, a * ALPHA * LANES, LANES, y, a * TILE * LANES, LANES);
        }
        int rows = Math.min(TILE, h - ty * TILE), cols = Math.min(TILE, w - tx * TILE);
        for (int a = 0; a < rows; a++) {
            for (int b = 0; b < cols; b++) {
                long off = 4L * (((long) (n * h + ty * TILE + a) * w + tx * TILE + b) * c + k0);
                FloatVector v = FloatVector.fromArray(S, y, (a * TILE + b) * LANES);
                if (add) {
                    v = v.add(FloatVector.fromMemorySegment(S, out, off, LE));
                }
                v.intoMemorySegment(out, off, LE);
            }
        }
    }
}
