package org.densecl.seg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.augment.Normalize;
import org.densecl.data.io.LabelImage;
import org.densecl.data.io.SegDataset;
import org.densecl.seg.eval.ConfusionMatrix;

/**
 * Scores a model on a labeled split the way mmseg's test does, in eval.mode: 'whole', one forward per image
 * at its own size, or 'slide', {@link SlidingWindow}'s crops of eval.crop every eval.stride pixels. Each image
 * is taken at its own size (no test-time rescale: mmseg would first rescale it keep-ratio to fit data.scale,
 * the identity for square images whose side is data.scale's short edge, as the committed configs simulate
 * them), normalised as in training, argmax, and the split's pixel counts summed into a
 * {@link ConfusionMatrix} (mIoU from dataset-level sums, spec 4.6). One predictor (model buffers) is planned
 * per distinct input size on first use and reused: per image size in whole mode, per window size in slide
 * mode (plus one SlidingWindow's sum and count buffers per image size), so a split of one size plans once.
 */
public final class SegEvaluator {
    /** Receives each image's prediction (H, W) classes, e.g. to write it as a PNG. */
    @FunctionalInterface
    public interface Sink {
        void accept(SegDataset.Sample sample, LabelImage prediction);
    }

    /** Makes the predictor for one input size (called once per distinct size). */
    @FunctionalInterface
    public interface Predictors {
        SegmentationPredictor at(int height, int width);
    }

    private final Predictors predictors;
    private final int numClasses;
    private final AugmentConfig.Segmentation norm;
    private final FinetuneConfig.Eval mode;
    private final Map<Long, SegmentationPredictor> bySize = new HashMap<>();
    private final Map<Long, SlidingWindow> slidingBySize = new HashMap<>();

    /**
     * @param norm the training pipeline's normalisation (mean, std, channels)
     * @param mode eval.mode, and eval.crop and eval.stride for 'slide' (eval.every is the caller's business)
     */
    public SegEvaluator(Predictors predictors, int numClasses, AugmentConfig.Segmentation norm, FinetuneConfig.Eval mode) {
        this.predictors = predictors;
        this.numClasses = numClasses;
        this.norm = norm;
        this.mode = mode;
    }

    /** Predicts every image of {@code data} and returns the split's confusion matrix; {@code sink} may be null. */
    public ConfusionMatrix evaluate(SegDataset data, Sink sink) {
        ConfusionMatrix cm = new ConfusionMatrix(numClasses, SegmentationModel.IGNORE_INDEX);
        for (int i = 0; i < data.size(); i++) {
            SegDataset.Item item = data.load(i);
            int h = item.image().height(), w = item.image().width();
            float[] image = new float[h * w * norm.channels()]; // (H, W, Cin)
            Normalize.write(item.image(), false, (float) norm.mean(), (float) norm.std(), norm.channels(), image, 0);
            byte[] classes = new byte[h * w]; // (H, W)
            if (mode.slide()) {
                slidingWindow(h, w).predict(image, classes);
            } else {
                predictor(h, w).predict(image, classes);
            }
            LabelImage prediction = new LabelImage(h, w, classes);
            try {
                cm.add(prediction, item.labels());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(data.sample(i).image() + ": " + e.getMessage(), e);
            }
            if (sink != null) {
                sink.accept(data.sample(i), prediction);
            }
        }
        return cm;
    }

    /** The predictor at h x w, made and checked against the data on first use. */
    private SegmentationPredictor predictor(int h, int w) {
        return bySize.computeIfAbsent(key(h, w), k -> {
            SegmentationPredictor p = predictors.at(h, w);
            if (p.numClasses() != numClasses || p.inputShape().dim(3) != norm.channels()) {
                throw new IllegalArgumentException("SegEvaluator: the model has " + p.numClasses() + " classes and "
                        + p.inputShape().dim(3) + " input channels; expected " + numClasses + " and " + norm.channels());
            }
            return p;
        });
    }

    /** Slide inference for h x w images, on the predictor at their window size (shared by all image sizes). */
    private SlidingWindow slidingWindow(int h, int w) {
        int ch = mode.crop().get(0), cw = mode.crop().get(1);
        SlidingWindow s = slidingBySize.get(key(h, w));
        if (s == null) {
            int[] size = SlidingWindow.windowSize(h, w, ch, cw);
            s = new SlidingWindow(predictor(size[0], size[1]), h, w, ch, cw, mode.stride().get(0), mode.stride().get(1));
            slidingBySize.put(key(h, w), s);
        }
        return s;
    }

    private static long key(int h, int w) {
        return (long) h << 32 | w;
    }

    /**
     * The class names of a data folder: its manifest.json "classes" (written by the simulator) when that
     * lists {@code numClasses} names, else "0", "1", ...
     */
    public static List<String> classNames(Path root, int numClasses) {
        Path manifest = root.resolve("manifest.json");
        List<String> names = new ArrayList<>();
        if (Files.isRegularFile(manifest)) {
            try {
                JsonNode classes = new ObjectMapper().readTree(manifest.toFile()).get("classes");
                if (classes != null && classes.isArray() && classes.size() == numClasses) {
                    classes.forEach(c -> names.add(c.asText()));
                    return names;
                }
            } catch (IOException e) {
                // an unreadable manifest only costs the names
            }
        }
        for (int c = 0; c < numClasses; c++) {
            names.add(Integer.toString(c));
        }
        return names;
    }
}
