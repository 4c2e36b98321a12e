package org.densecl.backend.cpu.winograd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The 1-D transforms of Winograd's minimal filtering algorithm F(4, 3) (Lavin and Gray, "Fast Algorithms
 * for Convolutional Neural Networks", 2016), with interpolation points 0, 1, -1, 2, -2 and infinity. Four
 * outputs of a 3-tap correlation from a 6-element input window cost 6 multiplications instead of 12:
 * <pre>
 *   y = A^T [ (G g) . (B^T d) ]      g (3) filter taps, d (6) inputs, y (4) outputs, . elementwise
 *
 *   B^T = | 4  0 -5  0  1  0 |   G = |  1/4     0     0  |   A^T = | 1  1  1  1  1  0 |
 *         | 0 -4 -4  1  1  0 |       | -1/6  -1/6  -1/6  |         | 0  1 -1  2 -2  0 |
 *         | 0  4 -4 -1  1  0 |       | -1/6   1/6  -1/6  |         | 0  1  1  4  4  0 |
 *         | 0 -2 -1  2  1  0 |       |  1/24  1/12  1/6  |         | 0  1 -1  8 -8  1 |
 *         | 0  2 -1 -2  1  0 |       |  1/24 -1/12  1/6  |
 *         | 0  4  0 -5  0  1 |       |  0     0     1    |
 * </pre>
 * Nesting the 1-D algorithm gives the 2-D F(4x4, 3x3): a 6x6 input tile d and a 3x3 filter g make a 4x4
 * output tile Y = A^T [ (G g G^T) . (B^T d B) ] A with 36 multiplications instead of 144. Summed over input
 * channels, the elementwise products become 36 independent GEMMs, one per point (i, j) of the 6x6 grid.
 *
 * <p>Each method here applies one 1-D transform to vectors of LANES channels: it loads its inputs from
 * {@code src[s0 + t * ss]} (t = 0, 1, ...) and stores its outputs to {@code dst[d0 + t * ds]}. Applying it
 * along the columns of a tile and then along the rows gives the 2-D transform. Vectors never cross a method
 * boundary (C2 would box them if a call were not inlined). The backward passes use the adjoints (transposes)
 * of A^T and G: the gradient of a linear map is its transpose.
 */
final class Winograd43 {
    /** Lanes per vector: the channel counts of a Winograd convolution are multiples of this. */
    static final int LANES = Lanes.COUNT;
    /** Input tile side (alpha = m + r - 1) and points per tile. */
    static final int ALPHA = 6;
    static final int POINTS = ALPHA * ALPHA;
    /** Output tile side m. */
    static final int TILE = 4;
    private static final VectorSpecies<Float> S = Lanes.FLOATS;

    private Winograd43() {}

    /** 6 -> 6: B^T z, the input (data) transform. */
    static void inputTransform(float[] src, int s0, int ss, float[] dst, int d0, int ds) {
        FloatVector z0 = FloatVector.fromArray(S, src, s0);
        FloatVector z1 = FloatVector.fromArray(S, src, s0 + ss);
        FloatVector z2 = FloatVector.fromArray(S, src, s0 + 2 * ss);
        FloatVector z3 = FloatVector.fromArray(S, src, s0 + 3 * ss);
        FloatVector z4 = FloatVector.fromArray(S, src, s0 + 4 * ss);
        FloatVector z5 = FloatVector.fromArray(S, src, s0 + 5 * ss);
        FloatVector a = z4.sub(z2.mul(4f));           // rows 1 and 2 share z4 - 4 z2 and z3 - 4 z1
        FloatVector b = z3.sub(z1.mul(4f));
        FloatVector c = z4.sub(z2);                   // rows 3 and 4 share z4 - z2 and 2 (z3 - z1)
        FloatVector d = z3.sub(z1).mul(2f);
        z0.mul(4f).sub(z2.mul(5f)).add(z4).intoArray(dst, d0);
        a.add(b).intoArray(dst, d0 + ds);
        a.sub(b).intoArray(dst, d0 + 2 * ds);
        c.add(d).intoArray(dst, d0 + 3 * ds);
        c.sub(d).intoArray(dst, d0 + 4 * ds);
        z1.mul(4f).sub(z3.mul(5f)).add(z5).intoArray(dst, d0 + 5 * ds);
    }

    /** 3 -> 6: G z, the filter transform. */
    static void filterTransform(float[] src, int s0, int ss, float[] dst, int d0, int ds) {
        FloatVector z0 = FloatVector.fromArray(S, src, s0);
        FloatVector z1 = FloatVector.fromArray(S, src, s0 + ss);
        FloatVector z2 = FloatVector.fromArray(S, src, s0 + 2 * ss);
        FloatVector e = z0.add(z2);
        FloatVector f = z0.mul(1f / 24).add(z2.mul(1f / 6));
        FloatVector h = z1.mul(1f / 12);
        z0.mul(0.25f).intoArray(dst, d0);
        e.add(z1).mul(-1f / 6).intoArray(dst, d0 + ds);
        e.sub(z1).mul(-1f / 6).intoArray(dst, d0 + 2 * ds);
        f.add(h).intoArray(dst, d0 + 3 * ds);
        f.sub(h).intoArray(dst, d0 + 4 * ds);
        z2.intoArray(dst, d0 + 5 * ds);
    }

    /** 6 -> 4: A^T z, the output transform. */
    static void outputTransform(float[] src, int s0, int ss, float[] dst, int d0, int ds) {
        FloatVector z0 = FloatVector.fromArray(S, src, s0);
        FloatVector z1 = FloatVector.fromArray(S, src, s0 + ss);
        FloatVector z2 = FloatVector.fromArray(S, src, s0 + 2 * ss);
        FloatVector z3 = FloatVector.fromArray(S, src, s0 + 3 * ss);
        FloatVector z4 = FloatVector.fromArray(S, src, s0 + 4 * ss);
        FloatVector z5 = FloatVector.fromArray(S, src, s0 + 5 * ss);
        FloatVector s1 = z1.add(z2), d1 = z1.sub(z2);
        FloatVector s2 = z3.add(z4), d2 = z3.sub(z4);
        z0.add(s1).add(s2).intoArray(dst, d0);
        d1.add(d2.mul(2f)).intoArray(dst, d0 + ds);
        s1.add(s2.mul(4f)).intoArray(dst, d0 + 2 * ds);
        d1.add(d2.mul(8f)).add(z5).intoArray(dst, d0 + 3 * ds);
    }

    /** 4 -> 6: A z, the adjoint of the output transform (an output gradient to the points' gradients). */
    static void outputAdjoint(float[] src, int s0, int ss, float[] dst, int d0, int ds) {
        FloatVector z0 = FloatVector.fromArray(S, src, s0);
        FloatVector z1 = FloatVector.fromArray(S, src, s0 + ss);
        FloatVector z2 = FloatVector.fromArray(S, src, s0 + 2 * ss);
        FloatVector z3 = FloatVector.fromArray(S, src, s0 + 3 * ss);
        FloatVector e = z0.add(z2), f = z1.add(z3);
        FloatVector e4 = z0.add(z2.mul(4f)), f8 = z1.mul(2f).add(z3.mul(8f));
        z0.intoArray(dst, d0);
        e.add(f).intoArray(dst, d0 + ds);
        e.sub(f).intoArray(dst, d0 + 2 * ds);
        e4.add(f8).intoArray(dst, d0 + 3 * ds);
        e4.sub(f8).intoArray(dst, d0 + 4 * ds);
        z3.intoArray(dst, d0 + 5 * ds);
    }

    /** 6 -> 3: G^T z, the adjoint of the filter transform (the points' gradients to the taps' gradients). */
    static void filterAdjoint(float[] src, int s0, int ss, float[] dst, int d0, int ds) {
        FloatVector z0 = FloatVector.fromArray(S, src, s0);
        FloatVector z1 = FloatVector.fromArray(S, src, s0 + ss);
        FloatVector z2 = FloatVector.fromArray(S, src, s0 + 2 * ss);
        FloatVector z3 = FloatVector.fromArray(S, src, s0 + 3 * ss);
        FloatVector z4 = FloatVector.fromArray(S, src, s0 + 4 * ss);
        FloatVector z5 = FloatVector.fromArray(S, src, s0 + 5 * ss);
        FloatVector s12 = z1.add(z2), s34 = z3.add(z4);
        z0.mul(0.25f).sub(s12.mul(1f / 6)).add(s34.mul(1f / 24)).intoArray(dst, d0);
        z2.sub(z1).mul(1f / 6).add(z3.sub(z4).mul(1f / 12)).intoArray(dst, d0 + ds);
        s34.sub(s12).mul(1f / 6).add(z5).intoArray(dst, d0 + 2 * ds);
    }
}
