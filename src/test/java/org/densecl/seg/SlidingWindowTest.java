package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.seg.SlidingWindow.Window;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.Test;

/**
 * mmseg's slide inference: the window grid is its formula's on hand-worked cases (windows shifted back inside
 * the image, an image smaller than the crop run whole); with a crop covering the image, slide is whole
 * inference exactly; on a larger image, the averaged logits are the hand-assembled average of the windows'
 * logits, computed by {@link SegmentationModel#predict} on the windows as a batch (another code path than the
 * predictor the slide runs).
 */
class SlidingWindowTest {
    private static final int K = 3;

    @Test
    void gridIsMmsegsFormula() {
        // h_grids = max(100 - 64 + 41, 0) / 42 + 1 = 2: [0, 64), then 42 + 64 > 100 shifted back to [36, 100)
        assertEquals(List.of(new Window(0, 64, 0, 64), new Window(0, 64, 36, 100), new Window(36, 100, 0, 64),
                new Window(36, 100, 36, 100)), SlidingWindow.grid(100, 100, 64, 64, 42, 42));
        // spec 4.6's Cityscapes: 1025 x 2049, crop 769, stride 513: 768/513 + 1 = 2 rows, 1792/513 + 1 = 4 columns
        List<Window> city = SlidingWindow.grid(1025, 2049, 769, 769, 513, 513);
        assertEquals(8, city.size());
        assertEquals(List.of(new Window(0, 769, 0, 769), new Window(0, 769, 513, 1282), new Window(0, 769, 1026, 1795),
                new Window(0, 769, 1280, 2049)), city.subList(0, 4));
        assertEquals(new Window(256, 1025, 1280, 2049), city.get(7));
        // stride = crop tiles exactly: (96 - 32 + 31) / 32 + 1 = 3; rectangular crop and stride are (h, w)
        assertEquals(List.of(new Window(0, 32, 0, 20), new Window(0, 32, 10, 30), new Window(32, 64, 0, 20),
                        new Window(32, 64, 10, 30), new Window(64, 96, 0, 20), new Window(64, 96, 10, 30)),
                SlidingWindow.grid(96, 30, 32, 20, 32, 15));
        // smaller than the crop in a dimension: one window there, at the image's size (mmseg crops, never pads)
        assertEquals(List.of(new Window(0, 20, 0, 64), new Window(0, 20, 36, 100)),
                SlidingWindow.grid(20, 100, 64, 64, 42, 42));
        assertEquals(List.of(new Window(0, 20, 0, 30)), SlidingWindow.grid(20, 30, 64, 64, 42, 42));
        assertEquals(List.of(new Window(0, 64, 0, 64)), SlidingWindow.grid(64, 64, 64, 64, 1, 1));
        assertArrayEquals(new int[] {20, 64}, SlidingWindow.windowSize(20, 100, 64, 64));
        assertThrows(IllegalArgumentException.class, () -> SlidingWindow.grid(20, 30, 0, 64, 42, 42));
    }

    @Test
    void aCropCoveringTheImageIsWholeInference() {
        int h = 37, w = 45;
        try (Backend be = new RefBackend()) {
            SegmentationModel m = trainedTinyModel(be, 1, h, w);
            SegmentationPredictor whole = SegmentationPredictor.sharing(be, m, h, w);
            float[] image = image(h, w, 11);
            float[] want = whole.logits(image).clone(); // (h, w, K)
            byte[] wantClasses = new byte[h * w], got = new byte[h * w]; // (h, w)
            whole.predict(image, wantClasses);
            assertTrue(distinct(wantClasses) > 1, "one class everywhere: a wrong argmax would go unseen");
            for (int[] cropStride : new int[][] {{37, 45, 37, 45}, {64, 64, 42, 42}, {40, 100, 1, 1}}) {
                SlidingWindow slide = new SlidingWindow(whole, h, w, cropStride[0], cropStride[1], cropStride[2],
                        cropStride[3]);
                assertEquals(1, slide.windows().size());
                assertArrayEquals(want, slide.logits(image), 0f, "crop " + cropStride[0] + "x" + cropStride[1]);
                slide.predict(image, got);
                assertArrayEquals(wantClasses, got, "crop " + cropStride[0] + "x" + cropStride[1]);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new SlidingWindow(whole, h, w, 32, 32, 21, 21));
            assertTrue(e.getMessage().contains("resized(32, 32)"), e.getMessage());
        }
    }

    @Test
    void averagesTheWindowsLogits() {
        int h = 60, w = 45, crop = 32, stride = 21;
        // rows: (60 - 32 + 20) / 21 + 1 = 3 windows at 0, 21 and 42 -> shifted back to 28; columns: (45 - 32 + 20)
        // / 21 + 1 = 2 at 0 and 21 -> shifted back to 13
        int[] ys = {0, 21, 28}, xs = {0, 13};
        int n = ys.length * xs.length;
        try (Backend be = new RefBackend()) {
            SegmentationModel m = trainedTinyModel(be, n, crop, crop);
            float[] image = image(h, w, 12); // (h, w, 1)
            Tensor windows = be.allocate(DType.F32, m.inputShape()); // (n, crop, crop, 1)
            for (int i = 0; i < ys.length; i++) {
                for (int j = 0; j < xs.length; j++) {
                    for (int y = 0; y < crop; y++) {
                        for (int x = 0; x < crop; x++) {
                            windows.setFloat(((long) (i * xs.length + j) * crop + y) * crop + x,
                                    image[(ys[i] + y) * w + xs[j] + x]);
                        }
                    }
                }
            }
            Tensor batch = m.predict(windows); // (n, crop, crop, K)
            float[] sum = new float[h * w * K]; // (h, w, K)
            int[] count = new int[h * w]; // (h, w)
            for (int i = 0; i < ys.length; i++) {
                for (int j = 0; j < xs.length; j++) {
                    for (int y = 0; y < crop; y++) {
                        for (int x = 0; x < crop; x++) {
                            int p = (ys[i] + y) * w + xs[j] + x;
                            count[p]++;
                            for (int k = 0; k < K; k++) {
                                sum[p * K + k] += batch.getFloat((((long) (i * xs.length + j) * crop + y) * crop + x) * K + k);
                            }
                        }
                    }
                }
            }
            byte[] want = new byte[h * w]; // (h, w)
            for (int p = 0; p < h * w; p++) {
                assertTrue(count[p] >= 1 && count[p] <= 6, "pixel " + p + " covered " + count[p] + " times");
                for (int k = 0; k < K; k++) {
                    sum[p * K + k] /= count[p];
                }
            }
            SegmentationPredictor.argmax(sum, K, want);
            assertTrue(distinct(want) > 1, "one class everywhere: a wrong argmax would go unseen");

            SlidingWindow slide = new SlidingWindow(SegmentationPredictor.sharing(be, m, crop, crop), h, w, crop, crop,
                    stride, stride);
            assertEquals(n, slide.windows().size());
            float[] got = slide.logits(image);
            for (int q = 0; q < sum.length; q++) {
                assertEquals(sum[q], got[q], 1e-5f * Math.max(1f, Math.abs(sum[q])), "logit " + q);
            }
            byte[] classes = new byte[h * w]; // (h, w)
            slide.predict(image, classes);
            assertArrayEquals(want, classes, "slide's classes are not the argmax of the averaged window logits");
            // a second image reuses the buffers: nothing of the first may remain in the sums
            slide.predict(image, classes);
            assertArrayEquals(want, classes, "a second call differs: the sums were not reset");
        }
    }

    /** A tiny FCN after one training step (BN running statistics off the init), batch n at h x w. */
    private static SegmentationModel trainedTinyModel(Backend be, int n, int h, int w) {
        SegmentationModel m = new SegmentationModel(be, SegmentationGradCheckTest.tinyConfig(0.1f), DType.F32, n, h, w, K);
        m.initialize(5);
        Tensor images = be.allocate(DType.F32, m.inputShape()); // (n, h, w, 1)
        Rand.normal(images, 6, 1.0);
        Tensor labels = be.allocate(DType.I32, m.labelShape()); // (n, h, w)
        Rand.labels(labels, 7, K, SegmentationModel.IGNORE_INDEX, 0.1);
        m.lossAndGradients(images, labels, 0);
        return m;
    }

    /** A smooth image (h, w, 1) with structure at several scales, so that the classes vary across it. */
    private static float[] image(int h, int w, int seed) {
        float[] out = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                out[y * w + x] = (float) (Math.sin(0.21 * y + seed) + Math.cos(0.17 * x * seed) + 0.3 * Math.sin(0.9 * (x + y)));
            }
        }
        return out;
    }

    private static int distinct(byte[] classes) {
        Set<Byte> seen = new HashSet<>();
        for (byte c : classes) {
            seen.add(c);
        }
        return seen.size();
    }
}
