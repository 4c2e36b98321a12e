package org.densecl.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Sgd against torch.optim.SGD's update written out in double (buf = m * buf + g + wd * w; w -= lr * buf),
 * over three steps with changing gradients and learning rates, with weight decay on or off for BN/bias.
 * F64 tensors, so the only difference is summation order: 1e-12 is ~1e4 ulps of headroom.
 */
class SgdTest {
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    @Test
    void matchesPyTorchsUpdateWithDecayGroups() {
        for (boolean decayAll : new boolean[] {true, false}) {
            Parameters p = new Parameters(DType.F64);
            Param w = p.weight("conv.weight", Shape.of(2, 1, 1, 3));
            Param g = p.norm("bn.weight", Shape.of(2));
            Param b = p.bias("fc.bias", Shape.of(3));
            Param m = p.buffer("bn.running_mean", Shape.of(2));
            p.allocate(be);
            for (Param q : p.all()) {
                Rand.normal(q.value(), q.name().length(), 1.0);
            }
            double[] runningBefore = copy(m.value());
            Sgd sgd = new Sgd(be, p, 0.9f, 0.01f, decayAll);
            assertEquals(0.01f, sgd.weightDecayOf(w));
            assertEquals(decayAll ? 0.01f : 0f, sgd.weightDecayOf(g));
            Param[] trained = {w, g, b};
            double[][] expect = new double[3][], buf = new double[3][];
            for (int t = 0; t < 3; t++) {
                expect[t] = copy(trained[t].value());
                buf[t] = new double[expect[t].length];
            }
            float[] lrs = {0.1f, 0.05f, 0.02f};
            for (int step = 0; step < 3; step++) {
                for (int t = 0; t < 3; t++) {
                    Rand.normal(trained[t].grad(), 100 * step + t, 1.0);
                    double wd = t == 0 || decayAll ? 0.01f : 0;
                    for (int i = 0; i < expect[t].length; i++) {
                        double grad = trained[t].grad().get(i) + wd * expect[t][i];
                        buf[t][i] = 0.9f * buf[t][i] + grad;
                        expect[t][i] -= lrs[step] * buf[t][i];
                    }
                }
                sgd.step(lrs[step]);
            }
            for (int t = 0; t < 3; t++) {
                double[] got = copy(trained[t].value());
                for (int i = 0; i < got.length; i++) {
                    assertEquals(expect[t][i], got[i], 1e-12, trained[t].name() + "[" + i + "] decayAll " + decayAll);
                }
                double[] mb = copy(sgd.momentumBuffer(trained[t].name()));
                for (int i = 0; i < mb.length; i++) {
                    assertEquals(buf[t][i], mb[i], 1e-12, "momentum buffer of " + trained[t].name());
                }
            }
            double[] runningAfter = copy(m.value());
            for (int i = 0; i < runningAfter.length; i++) {
                assertEquals(runningBefore[i], runningAfter[i], 0.0, "buffers are not stepped");
            }
        }
    }

    @Test
    void refusesUnallocatedParametersAndMissingBuffers() {
        Parameters p = new Parameters(DType.F32);
        p.weight("w", Shape.of(1));
        assertThrows(IllegalStateException.class, () -> new Sgd(be, p, 0.9f, 0f, true));
        p.allocate(be);
        Sgd plain = new Sgd(be, p, 0f, 0f, true);
        assertThrows(IllegalStateException.class, () -> plain.momentumBuffer("w"));
        be.fill(p.get("w").value(), 1f);
        be.fill(p.get("w").grad(), 2f);
        plain.step(0.25f);
        assertEquals(0.5, p.get("w").value().get(0), 0.0, "momentum 0: w -= lr * g");
    }

    private static double[] copy(Tensor t) {
        double[] d = new double[(int) t.numel()];
        for (int i = 0; i < d.length; i++) {
            d[i] = t.get(i);
        }
        return d;
    }
}
