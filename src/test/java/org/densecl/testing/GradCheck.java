package org.densecl.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * A float64 central-finite-difference gradient checker for hand-written backward passes.
 *
 * <p>The scalar under test is L = sum_i dy_i * y_i, with dy a fixed random tensor: its gradient
 * w.r.t. an input x is exactly what a backward pass computes when handed dy as the upstream
 * gradient. For every element of every input we compare that analytic gradient with
 * (L(x + h) - L(x - h)) / 2h.
 *
 * <p>The backward pass is also checked to ACCUMULATE (the project's contract): every gradient tensor
 * is pre-filled with random values g0 before backward runs, and the analytic gradient is taken as
 * (dx after) - g0. A backward that overwrote instead of adding, or that added twice, fails.
 *
 * <p>Tolerance: h = 1e-6 in F64. The central difference's truncation error is h^2/6 * |L'''|, about
 * 1e-13 for the O(1)-to-O(100) third derivatives of the ops here. Its rounding error is about
 * eps * |L| * sqrt(terms) / h: with eps = 1.1e-16, |L| <= ~10 and a few hundred terms that is ~1e-8.
 * So {@link #DEFAULT_ATOL} = 1e-6 and {@link #DEFAULT_RTOL} = 1e-5 leave a margin of ~100 over the
 * method's own error, while a real bug (a wrong index, a dropped term, a missing factor) moves a
 * gradient by 1e-3 or far more. Inputs are random, so a ReLU or max-pool kink within h of an
 * element is a ~1e-6-probability event per element and seeds are fixed.
 */
public final class GradCheck {
    private GradCheck() {}

    /** The finite-difference step. */
    public static final double H = 1e-6;
    /** Absolute tolerance: see the class comment for why. */
    public static final double DEFAULT_ATOL = 1e-6;
    /** Relative tolerance: see the class comment for why. */
    public static final double DEFAULT_RTOL = 1e-5;

    /** One differentiable input {@code x} and the gradient {@code dx} its backward accumulates into. */
    public record Input(String name, Tensor x, Tensor dx) {}

    public static Input input(String name, Tensor x, Tensor dx) {
        return new Input(name, x, dx);
    }

    /**
     * Checks every input's gradient with the default tolerance.
     *
     * @param op       what failure messages name (op and shapes)
     * @param forward  recomputes {@code y} from the inputs' current values (must overwrite y)
     * @param y        the output; L = sum(dy * y)
     * @param dy       the upstream gradient; this method fills it with seeded random values
     * @param backward accumulates into every input's dx, reading dy (and whatever forward saved)
     * @param inputs   the inputs to perturb, F64 host tensors
     */
    public static void check(String op, Runnable forward, Tensor y, Tensor dy, Runnable backward, Input... inputs) {
        check(op, 12345L, DEFAULT_ATOL, DEFAULT_RTOL, forward, y, dy, backward, inputs);
    }

    /** As {@link #check(String, Runnable, Tensor, Tensor, Runnable, Input...)} with a seed and tolerances. */
    public static void check(String op, long seed, double atol, double rtol, Runnable forward, Tensor y, Tensor dy,
                             Runnable backward, Input... inputs) {
        assertEquals(DType.F64, y.dtype(), op + ": finite differences need an F64 output");
        assertEquals(y.numel(), dy.numel(), op + ": dy " + dy.shape() + " must have y's element count " + y.shape());
        Rand.normal(dy, seed, 1.0);

        // Analytic: forward at the base point, then backward onto random prior gradients.
        forward.run();
        double[][] prior = new double[inputs.length][];
        for (int t = 0; t < inputs.length; t++) {
            Input in = inputs[t];
            assertEquals(DType.F64, in.x().dtype(), op + ": input " + in.name() + " must be F64");
            assertEquals(in.x().numel(), in.dx().numel(), op + ": d" + in.name() + " " + in.dx().shape()
                    + " must have " + in.name() + "'s element count " + in.x().shape());
            Rand.uniform(in.dx(), seed + 1 + t, -1, 1);
            prior[t] = toArray(in.dx());
        }
        backward.run();

        for (int t = 0; t < inputs.length; t++) {
            Input in = inputs[t];
            double[] analytic = toArray(in.dx());
            for (int i = 0; i < analytic.length; i++) {
                analytic[i] -= prior[t][i];
            }
            double[] numeric = new double[analytic.length];
            double scaleSeen = 0;
            for (int i = 0; i < numeric.length; i++) {
                double v = in.x().get(i);
                in.x().set(i, v + H);
                forward.run();
                double plus = weightedSum(dy, y);
                in.x().set(i, v - H);
                forward.run();
                double minus = weightedSum(dy, y);
                in.x().set(i, v);
                numeric[i] = (plus - minus) / (2 * H);
                scaleSeen = Math.max(scaleSeen, Math.abs(numeric[i]));
            }
            TensorAssert.close(op + " d" + in.name() + " " + in.x().shape() + " (finite differences vs backward)",
                    numeric, analytic, atol, rtol);
            // A check where every gradient is zero would pass trivially; no op here has that.
            assertTrue(scaleSeen > 1e-4, op + ": every finite-difference gradient of " + in.name()
                    + " is ~0 (max " + scaleSeen + "); the check would not detect a bug");
        }
        forward.run(); // leave outputs (and saved state) as at the base point
    }

    /** sum_i dy_i * y_i in double. */
    public static double weightedSum(Tensor dy, Tensor y) {
        double s = 0;
        for (long i = 0; i < y.numel(); i++) {
            s += dy.get(i) * y.get(i);
        }
        return s;
    }

    private static double[] toArray(Tensor t) {
        double[] a = new double[(int) t.numel()];
        for (int i = 0; i < a.length; i++) {
            a[i] = t.get(i);
        }
        return a;
    }
}
