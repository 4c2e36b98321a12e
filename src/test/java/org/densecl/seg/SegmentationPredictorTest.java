package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inference used for validation and evaluation agrees with the model it comes from: a predictor sharing a
 * {@link SegmentationModel}'s weights classifies each image of a batch as {@link SegmentationModel#predict}
 * does (after a training step, so BN running statistics are not the init's); and at another image size, a
 * predictor resized from the shared one and a standalone one loaded from the saved weights agree too.
 */
class SegmentationPredictorTest {
    private static final int N = 2, H = 37, W = 45, K = 3;

    @TempDir
    Path tmp;

    @Test
    void agreesWithTheModelAndWithSavedWeights() {
        try (Backend be = new RefBackend()) {
            SegmentationModel m = new SegmentationModel(be, SegmentationGradCheckTest.tinyConfig(0.1f), DType.F32, N, H, W, K);
            m.initialize(5);
            Tensor images = be.allocate(DType.F32, m.inputShape()); // (N, H, W, 1)
            Rand.normal(images, 6, 1.0);
            Tensor labels = be.allocate(DType.I32, m.labelShape()); // (N, H, W)
            Rand.labels(labels, 7, K, SegmentationModel.IGNORE_INDEX, 0.1);
            m.lossAndGradients(images, labels, 0); // updates the BN running statistics

            Tensor logits = m.predict(images); // (N, H, W, K)
            SegmentationPredictor shared = SegmentationPredictor.sharing(be, m, H, W);
            Set<Integer> seen = new HashSet<>();
            for (int n = 0; n < N; n++) {
                float[] image = new float[H * W]; // (H, W, 1)
                byte[] want = new byte[H * W], got = new byte[H * W]; // (H, W)
                for (int p = 0; p < H * W; p++) {
                    image[p] = images.getFloat((long) n * H * W + p);
                    int best = 0;
                    for (int k = 1; k < K; k++) {
                        best = logits.getFloat(((long) n * H * W + p) * K + k) > logits.getFloat(((long) n * H * W + p) * K + best)
                                ? k : best;
                    }
                    want[p] = (byte) best;
                    seen.add(best);
                }
                shared.predict(image, got);
                assertArrayEquals(want, got, "image " + n + ": the shared predictor disagrees with predict()");
            }
            assertTrue(seen.size() > 1, "every pixel got one class: the comparison would not see a wrong argmax");

            Path file = tmp.resolve("weights.safetensors");
            FinetuneCheckpoint.saveWeights(file, m, be, new FinetuneCheckpoint.State(0, 5, "kaiming", Double.NaN, 0, "{}", "{}"));
            SegmentationPredictor resized = shared.resized(24, 30);
            SegmentationPredictor loaded = SegmentationPredictor.standalone(be, m.config(), K, 24, 30);
            FinetuneCheckpoint.loadModel(file, loaded.backboneParameters(), loaded.headParameters(), be);
            float[] image = new float[24 * 30]; // (24, 30, 1)
            for (int p = 0; p < image.length; p++) {
                image[p] = (float) Math.sin(0.37 * p);
            }
            byte[] a = new byte[image.length], b = new byte[image.length]; // (24, 30)
            resized.predict(image, a);
            loaded.predict(image, b);
            assertArrayEquals(a, b, "24x30: the resized and the loaded predictor disagree");
        }
    }
}
