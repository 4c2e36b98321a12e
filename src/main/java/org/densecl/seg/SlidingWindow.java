package org.densecl.seg;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.densecl.tensor.Shape;

/**
 * mmseg's 'slide' test mode (EncoderDecoder.slide_inference, spec 4.6) for images of one size H x W: windows
 * of crop = (h_crop, w_crop) every stride = (h_stride, w_stride) pixels, the last row and column shifted back
 * inside the image; each window's logits (resized to the window by the predictor) are summed into the image's
 * logits and divided by the number of windows covering each pixel; argmax.
 *
 * <p>Every window has the same size, min(H, h_crop) x min(W, w_crop): an image at least as large as the crop
 * only has full windows (shifted back, never clipped), and an image smaller than the crop in a dimension has
 * a single window spanning that dimension, run at the image's size as mmseg does (it crops
 * img[:, :, y1:y2, x1:x2] and does not pad). So one {@link SegmentationPredictor} at that size serves every
 * window; it shares the model's weights, and the crop, sum and count buffers are planned here once, so a
 * window allocates nothing.
 */
public final class SlidingWindow {
    /** One window, rows [y1, y2) and columns [x1, x2) of the image. */
    public record Window(int y1, int y2, int x1, int x2) {
        public int height() {
            return y2 - y1;
        }

        public int width() {
            return x2 - x1;
        }
    }

    private final SegmentationPredictor window;
    private final int height, width, channels, numClasses;
    private final List<Window> windows;
    private final float[] crop;    // (h, w, Cin) the current window's pixels
    private final float[] sum;     // (H, W, K) window logits summed, then divided in place by count
    private final int[] count;     // (H, W) windows covering each pixel (fixed by the grid)

    /**
     * Slide inference for H x W images with {@code window}, a predictor at the window size
     * ({@link #windowSize}); crop and stride are (height, width).
     */
    public SlidingWindow(SegmentationPredictor window, int height, int width, int cropHeight, int cropWidth,
                         int strideHeight, int strideWidth) {
        windows = grid(height, width, cropHeight, cropWidth, strideHeight, strideWidth);
        int[] size = windowSize(height, width, cropHeight, cropWidth);
        Shape in = window.inputShape();
        if (in.dim(1) != size[0] || in.dim(2) != size[1]) {
            throw new IllegalArgumentException("SlidingWindow: a " + height + "x" + width + " image with crop "
                    + cropHeight + "x" + cropWidth + " has " + size[0] + "x" + size[1] + " windows; the predictor"
                    + " takes " + in.dim(1) + "x" + in.dim(2) + " (make it with resized(" + size[0] + ", " + size[1]
                    + "))");
        }
        this.window = window;
        this.height = height;
        this.width = width;
        this.channels = in.dim(3);
        this.numClasses = window.numClasses();
        crop = new float[size[0] * size[1] * channels];
        sum = new float[height * width * numClasses];
        count = new int[height * width];
        for (Window w : windows) {
            for (int y = w.y1(); y < w.y2(); y++) {
                for (int x = w.x1(); x < w.x2(); x++) {
                    count[y * width + x]++;
                }
            }
        }
        for (int p = 0; p < count.length; p++) {
            if (count[p] == 0) { // FinetuneConfig refuses stride > crop, the only way to leave a gap
                throw new IllegalArgumentException("SlidingWindow: stride " + strideHeight + "x" + strideWidth
                        + " leaves pixel (" + p / width + ", " + p % width + ") of a " + height + "x" + width
                        + " image outside every " + cropHeight + "x" + cropWidth + " window; use a stride <= the crop");
            }
        }
    }

    /**
     * mmseg's window grid, row-major (the order it sums them in): h_grids = max(H - h_crop + h_stride - 1, 0)
     * / h_stride + 1 (the same for w); window (i, j) starts at (i * h_stride, j * w_stride), ends at most at
     * the image's edge, and then starts crop before its end (at 0 at least).
     */
    public static List<Window> grid(int height, int width, int cropHeight, int cropWidth, int strideHeight,
                                    int strideWidth) {
        if (height < 1 || width < 1 || cropHeight < 1 || cropWidth < 1 || strideHeight < 1 || strideWidth < 1) {
            throw new IllegalArgumentException("SlidingWindow: image " + height + "x" + width + ", crop " + cropHeight
                    + "x" + cropWidth + " and stride " + strideHeight + "x" + strideWidth + " must all be >= 1");
        }
        int hGrids = Math.max(height - cropHeight + strideHeight - 1, 0) / strideHeight + 1;
        int wGrids = Math.max(width - cropWidth + strideWidth - 1, 0) / strideWidth + 1;
        List<Window> out = new ArrayList<>(hGrids * wGrids);
        for (int i = 0; i < hGrids; i++) {
            for (int j = 0; j < wGrids; j++) {
                int y2 = Math.min(i * strideHeight + cropHeight, height);
                int x2 = Math.min(j * strideWidth + cropWidth, width);
                out.add(new Window(Math.max(y2 - cropHeight, 0), y2, Math.max(x2 - cropWidth, 0), x2));
            }
        }
        return List.copyOf(out);
    }

    /** The size (height, width) of every window of an H x W image: the crop, clipped to the image. */
    public static int[] windowSize(int height, int width, int cropHeight, int cropWidth) {
        return new int[] {Math.min(height, cropHeight), Math.min(width, cropWidth)};
    }

    /** The windows, in the order they are summed. */
    public List<Window> windows() {
        return windows;
    }

    /** The image size this takes, (1, H, W, Cin). */
    public Shape inputShape() {
        return Shape.of(1, height, width, channels);
    }

    public int numClasses() {
        return numClasses;
    }

    /**
     * The averaged logits (H, W, K) of one normalised image (H, W, Cin): per pixel the sum of the covering
     * windows' logits over their count. The array is this object's buffer, overwritten by the next call.
     */
    public float[] logits(float[] image) {
        if (image.length != height * width * channels) {
            throw new IllegalArgumentException("SlidingWindow: expected an image of " + height + "x" + width + "x"
                    + channels + " = " + height * width * channels + " values, got " + image.length);
        }
        Arrays.fill(sum, 0f);
        for (Window w : windows) {
            int wh = w.height(), ww = w.width(), row = ww * channels;
            for (int y = 0; y < wh; y++) {
                System.arraycopy(image, ((w.y1() + y) * width + w.x1()) * channels, crop, y * row, row);
            }
            float[] l = window.logits(crop); // (wh, ww, K)
            for (int y = 0; y < wh; y++) {
                int src = y * ww * numClasses, dst = ((w.y1() + y) * width + w.x1()) * numClasses;
                for (int i = 0; i < ww * numClasses; i++) {
                    sum[dst + i] += l[src + i];
                }
            }
        }
        for (int p = 0; p < count.length; p++) {
            int c = count[p], o = p * numClasses;
            for (int k = 0; k < numClasses; k++) {
                sum[o + k] /= c;
            }
        }
        return sum;
    }

    /** Classifies one normalised image (H, W, Cin) into {@code classes} (H, W), the lowest class on a tie. */
    public void predict(float[] image, byte[] classes) {
        if (classes.length != height * width) {
            throw new IllegalArgumentException("SlidingWindow: expected " + height + "x" + width + " outputs, got "
                    + classes.length);
        }
        SegmentationPredictor.argmax(logits(image), numClasses, classes);
    }
}
