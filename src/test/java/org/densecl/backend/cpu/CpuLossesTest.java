package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.VsRef.Pair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * cpu vs ref for softmax cross-entropy (ignore index, both reductions, a scale, all pixels ignored,
 * a bad label) and L2 normalisation (including rows whose norm is below eps). Class counts are odd
 * (1, 3, 21) plus a 1025-wide row like DenseCL's InfoNCE logits; 2000 pixels x 21 classes is enough
 * work for several parallel parts.
 *
 * <p>Tolerance. The cpu's exp is the Vector API's (SVML-class, a few ulps) and sums run in float;
 * ref works in double. Probabilities in [0, 1]: atol 1e-6, rtol 1e-5. The loss is a mean of O(1)
 * terms, each logsumexp - x[label] with logsumexp formed in double from a float sum: rtol 1e-5.
 * Gradients are (p - onehot) * scale / denominator, small numbers: atol 1e-7, rtol 1e-5. L2 norms
 * sum up to 1025 squares in float lanes: rtol 1e-5 on norms, outputs and gradients.
 */
class CpuLossesTest {
    private static final int IGNORE = 255;

    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    @Test
    void crossEntropyMatchesRef() {
        int[][] cases = {{2000, 21}, {37, 3}, {5, 1}, {4, 1025}, {3000, 2}};
        for (int[] mc : cases) {
            for (boolean averageNonIgnored : new boolean[] {false, true}) {
                for (double ignored : new double[] {0.2, 1.0}) {
                    crossEntropy(mc[0], mc[1], averageNonIgnored, ignored);
                }
            }
        }
    }

    private void crossEntropy(int m, int c, boolean averageNonIgnored, double ignored) {
        String what = "softmaxCrossEntropy (" + m + ", " + c + ") averageNonIgnored=" + averageNonIgnored
                + " ignored=" + ignored;
        Pair logits = b.normal(81, 3, m, c), labels = b.labels(82, c, IGNORE, ignored, m);
        Pair probs = b.zeros(m, c), loss = b.zeros(1);
        b.ref.softmaxCrossEntropyForward(logits.ref(), labels.ref(), IGNORE, averageNonIgnored, probs.ref(),
                loss.ref());
        b.cpu.softmaxCrossEntropyForward(logits.dut(), labels.dut(), IGNORE, averageNonIgnored, probs.dut(),
                loss.dut());
        b.close(what + " probs", probs, 1e-6, 1e-5);
        b.close(what + " loss", loss, 1e-7, 1e-5);
        if (ignored == 1.0) {
            assertEquals(0f, loss.dut().getFloat(0), what + ": all pixels ignored gives loss 0");
        }
        // The backward reads the same probs on both sides (ref's), so it is compared on its own.
        b.mirror(probs);
        Pair dlogits = b.normal(83, 0.01, m, c);
        b.ref.softmaxCrossEntropyBackward(probs.ref(), labels.ref(), IGNORE, averageNonIgnored, 0.7f, dlogits.ref());
        b.cpu.softmaxCrossEntropyBackward(probs.dut(), labels.dut(), IGNORE, averageNonIgnored, 0.7f, dlogits.dut());
        b.close(what + " dlogits", dlogits, 1e-7, 1e-5);
    }

    @Test
    void crossEntropyRejectsABadLabelNamingLabelAndPixel() {
        Pair logits = b.normal(84, 1, 300, 7), labels = b.labels(85, 7, IGNORE, 0.1, 300), probs = b.zeros(300, 7);
        labels.dut().setInt(250, 9);
        labels.dut().setInt(17, -3);
        var e = assertThrows(IllegalArgumentException.class, () -> b.cpu.softmaxCrossEntropyForward(logits.dut(),
                labels.dut(), IGNORE, true, probs.dut(), b.zeros(1).dut()));
        assertTrue(e.getMessage().contains("label -3 at pixel 17"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.cpu.softmaxCrossEntropyBackward(probs.dut(),
                labels.dut(), IGNORE, false, 1f, b.zeros(300, 7).dut()));
        assertTrue(e.getMessage().startsWith("softmaxCrossEntropyBackward: label -3 at pixel 17"), e.getMessage());
    }

    @Test
    void l2NormalizeMatchesRef() {
        int[][] cases = {{37, 128}, {5, 3}, {300, 129}, {2, 1025}};
        for (int[] mc : cases) {
            int m = mc[0], c = mc[1];
            String what = "l2Normalize (" + m + ", " + c + ")";
            Pair x = b.normal(86, 1, m, c);
            for (int j = 0; j < c; j++) { // row 1: norm ~1e-14, below eps, so the clamp applies
                x.ref().setFloat(c + j, (float) (x.ref().getFloat(c + j) * 1e-15));
            }
            b.mirror(x);
            Pair y = b.zeros(m, c), norms = b.zeros(m);
            b.ref.l2NormalizeForward(x.ref(), 1e-12f, y.ref(), norms.ref());
            b.cpu.l2NormalizeForward(x.dut(), 1e-12f, y.dut(), norms.dut());
            b.close(what + " forward y", y, 1e-7, 1e-5);
            b.close(what + " forward norms", norms, 0, 1e-5);
            b.mirror(y);
            b.mirror(norms);
            Pair dy = b.normal(87, 1e-3, m, c), dx = b.normal(88, 1, m, c);
            b.ref.l2NormalizeBackward(y.ref(), norms.ref(), 1e-12f, dy.ref(), dx.ref());
            b.cpu.l2NormalizeBackward(y.dut(), norms.dut(), 1e-12f, dy.dut(), dx.dut());
            b.close(what + " backward dx", dx, 1e-6, 1e-5);
        }
    }
}
