package org.densecl.backend.ref;

import static org.densecl.backend.ref.RefFixtures.labels;
import static org.densecl.backend.ref.RefFixtures.rand;
import static org.densecl.backend.ref.RefFixtures.zeros;
import static org.densecl.testing.GradCheck.input;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.tensor.Tensor;
import org.densecl.testing.GradCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Finite-difference checks (F64) of softmax cross-entropy and L2 normalisation in the ref backend. */
class RefLossGradTest {
    private final RefBackend ref = new RefBackend();

    @AfterEach
    void close() {
        ref.close();
    }

    /**
     * 7 pixels, 5 classes, two pixels ignored. The loss is a scalar (1), so dy is one random number and
     * the backward's {@code scale} is that number: dlogits += dy * dloss/dlogits.
     */
    @ParameterizedTest(name = "ignoreIndex={0} averageNonIgnored={1}")
    @CsvSource({"255, false", "255, true", "-100, true", "-100, false"})
    void softmaxCrossEntropy(int ignoreIndex, boolean averageNonIgnored) {
        Tensor logits = rand(ref, 111, 7, 5);
        ref.scale(logits, 3f); // logits in [-3, 3): a peaked softmax, still well conditioned
        Tensor lab = labels(ref, 0, 4, ignoreIndex, 2, 1, ignoreIndex, 3);
        Tensor probs = zeros(ref, 7, 5), loss = zeros(ref, 1), dloss = zeros(ref, 1), dlogits = zeros(ref, 7, 5);
        GradCheck.check("softmaxCrossEntropy (7,5) ignore=" + ignoreIndex + " avgNonIgnored=" + averageNonIgnored,
                () -> ref.softmaxCrossEntropyForward(logits, lab, ignoreIndex, averageNonIgnored, probs, loss),
                loss, dloss,
                () -> ref.softmaxCrossEntropyBackward(probs, lab, ignoreIndex, averageNonIgnored,
                        (float) dloss.get(0), dlogits),
                input("logits", logits, dlogits));
    }

    /** NHWC logits (1, 3, 2, 3) viewed as (6, 3) pixels, as the segmentation head passes them. */
    @Test
    void softmaxCrossEntropyNhwcLogits() {
        Tensor logits = rand(ref, 112, 1, 3, 2, 3), probs = zeros(ref, 1, 3, 2, 3);
        Tensor lab = labels(ref, 2, 0, 1, 1, 255, 0);
        Tensor loss = zeros(ref, 1), dloss = zeros(ref, 1), dlogits = zeros(ref, 1, 3, 2, 3);
        GradCheck.check("softmaxCrossEntropy NHWC (1,3,2,3)", () -> ref.softmaxCrossEntropyForward(
                        logits.view(6, 3), lab, 255, true, probs.view(6, 3), loss), loss, dloss,
                () -> ref.softmaxCrossEntropyBackward(probs.view(6, 3), lab, 255, true, (float) dloss.get(0),
                        dlogits.view(6, 3)),
                input("logits", logits, dlogits));
    }

    /** Rows of an (M, C) tensor, one of them scaled below eps so its divisor is the constant eps. */
    @ParameterizedTest(name = "M={0} C={1}")
    @CsvSource({"4, 5", "1, 7", "3, 1"})
    void l2Normalize(int m, int c) {
        float eps = 1e-2f;
        Tensor x = rand(ref, 121, m, c), y = zeros(ref, m, c), dy = zeros(ref, m, c), norms = zeros(ref, m);
        Tensor dx = zeros(ref, m, c);
        int small = m - 1; // this row gets norm ~ eps/10: the clamp branch (h = 1e-6 never crosses eps)
        double sq = 0;
        for (int j = 0; j < c; j++) {
            sq += x.get((long) small * c + j) * x.get((long) small * c + j);
        }
        for (int j = 0; j < c; j++) {
            x.set((long) small * c + j, x.get((long) small * c + j) * (eps / 10) / Math.sqrt(sq));
        }
        GradCheck.check("l2Normalize (" + m + "," + c + ") eps=1e-2", () -> ref.l2NormalizeForward(x, eps, y, norms),
                y, dy, () -> ref.l2NormalizeBackward(y, norms, eps, dy, dx), input("x", x, dx));
        assertTrue(norms.get(small) < eps, "row " + small + " must be below eps: " + norms.get(small));
    }
}
