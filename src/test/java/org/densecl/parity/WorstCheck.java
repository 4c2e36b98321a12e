package org.densecl.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.Backend;
import org.densecl.tensor.Tensor;

/**
 * Compares against fixture tensors with atol = tol * max|ref| and rtol = tol, and remembers the
 * comparison that came closest to its tolerance.
 */
final class WorstCheck {
    final Fixture fx;
    final Backend be;
    double ratio;
    String where = "-";

    WorstCheck(Fixture fx, Backend be) {
        this.fx = fx;
        this.be = be;
    }

    void check(String op, String tensor, Tensor actual, double tol) {
        Tensor want = fx.expected(be, tensor);
        double scale = 0;
        for (long i = 0; i < want.numel(); i++) {
            scale = Math.max(scale, Math.abs(want.get(i)));
        }
        assertTrue(scale > 0, fx.name() + ": " + tensor + " is all zero in the fixture");
        double atol = tol * scale;
        for (long i = 0; i < want.numel(); i++) {
            double r = Math.abs(want.get(i) - actual.get(i)) / (atol + tol * Math.abs(want.get(i)));
            if (r > ratio) {
                ratio = r;
                where = tensor;
            }
        }
        fx.check(be, op, tensor, actual, atol, tol);
    }
}
