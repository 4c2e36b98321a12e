package org.densecl.backend.ref;

import static org.densecl.backend.ref.RefFixtures.f64;
import static org.densecl.backend.ref.RefFixtures.rand;
import static org.densecl.backend.ref.RefFixtures.zeros;
import static org.densecl.testing.GradCheck.input;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.densecl.tensor.Tensor;
import org.densecl.testing.GradCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ref backend's InfoNCE loss: finite differences of its anchor gradient (F64) and a tiny case worked
 * by hand. (The correspondence ops are checked against brute force in ContrastiveKernelsTest, on both
 * backends.)
 */
class RefContrastiveTest {
    private final RefBackend ref = new RefBackend();

    @AfterEach
    void close() {
        ref.close();
    }

    /** Rows of t (M, D) scaled to unit length, as the anchors, positives and queue keys are in DenseCL. */
    static void normalizeRows(Tensor t) {
        int d = t.shape().last();
        for (long r = 0; r < t.numel() / d; r++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                s += t.get(r * d + c) * t.get(r * d + c);
            }
            for (int c = 0; c < d; c++) {
                t.set(r * d + c, t.get(r * d + c) / Math.sqrt(s));
            }
        }
    }

    /**
     * dLoss/dAnchors by central differences. R is not a multiple of the cpu backend's 256-row block (nor of
     * 8), K not a multiple of 8, D odd. The backward call passes weight w * dy (dy is a float-exact random
     * scalar and w a power of two, so w * dy is exact in float): its dAnchors is then dy * dLoss/dAnchors,
     * what GradCheck expects for L = dy * loss.
     */
    @ParameterizedTest(name = "R={0} K={1} D={2} tau={3}")
    @CsvSource({"7, 11, 5, 0.2", "3, 13, 9, 0.07", "1, 1, 3, 1.0"})
    void anchorGradientMatchesFiniteDifferences(int r, int k, int d, float tau) {
        Tensor u = rand(ref, 31, r, d), pos = rand(ref, 32, r, d), queue = rand(ref, 33, k, d);
        normalizeRows(u);
        normalizeRows(pos);
        normalizeRows(queue);
        float w = 0.25f;
        Tensor loss = zeros(ref, 1), dloss = zeros(ref, 1), scratchLoss = zeros(ref, 1), du = zeros(ref, r, d);
        GradCheck.check("infoNceLoss anchors (" + r + ", " + d + ") queue (" + k + ", " + d + ") tau=" + tau,
                () -> ref.infoNceLoss(u, pos, queue, tau, w, loss, null), loss, dloss,
                () -> ref.infoNceLoss(u, pos, queue, tau, (float) (w * dloss.get(0)), scratchLoss, du),
                input("anchors", u, du));
    }

    /**
     * R = 2, K = 3, D = 2, tau = 0.5, w = 0.5. queue rows e1, e2, -e1.
     * Row 0: u = e1, pos = (0.6, 0.8): z = [0.6, 1, 0, -1] / 0.5 = [1.2, 2, 0, -2],
     *   CE0 = log(e^1.2 + e^2 + 1 + e^-2) - 1.2; with S = that sum, p = [e^1.2, e^2, 1, e^-2] / S and
     *   du0 = w/tau ((p0 - 1) pos + p1 e1 + p2 e2 - p3 e1) = ((p0-1) 0.6 + p1 - p3, (p0-1) 0.8 + p2).
     * Row 1: u = e2, pos = e2: z = [2, 0, 2, 0], CE1 = log(2 e^2 + 2) - 2,
     *   du1 = (p1 - p3, p0 - 1 + p2) = (0, -1 / (e^2 + 1)).
     * loss = 0.5 (CE0 + CE1); the literals below were evaluated from these expressions in double.
     */
    @Test
    void tinyCaseByHand() {
        for (boolean f64 : new boolean[] {true, false}) {
            Tensor u = make(f64, new double[] {1, 0, 0, 1}, 2, 2);
            Tensor pos = make(f64, new double[] {0.6, 0.8, 0, 1}, 2, 2);
            Tensor queue = make(f64, new double[] {1, 0, 0, 1, -1, 0}, 3, 2);
            Tensor loss = make(f64, new double[] {123}, 1), du = make(f64, new double[] {1, 2, 3, 4}, 2, 2);
            ref.infoNceLoss(u, pos, queue, 0.5f, 0.5f, loss, du);
            // F64: the same formula in a different order, so only rounding (1e-12). F32: storage rounding of
            // the result and of the inputs 0.6, 0.8 (6e-8 relative), so 1e-6.
            double tol = f64 ? 1e-12 : 1e-6;
            String what = "infoNceLoss tiny R=2 K=3 D=2 " + (f64 ? "F64" : "F32");
            assertEquals(1.045969758789957, loss.get(0), tol, what + " loss");
            // du accumulates onto the prior (1, 2, 3, 4).
            assertEquals(1 + 0.1805972803031483, du.get(0), tol, what + " du[0, 0]");
            assertEquals(2 - 0.49132584957743175, du.get(1), tol, what + " du[0, 1]");
            assertEquals(3 + 0.0, du.get(2), tol, what + " du[1, 0]");
            assertEquals(4 - 0.11920292202211755, du.get(3), tol, what + " du[1, 1]");
        }
    }

    private Tensor make(boolean f64, double[] values, int... dims) {
        if (f64) {
            return f64(ref, values, dims);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return RefFixtures.f32(ref, f, dims);
    }
}
