package org.densecl.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.data.io.LabelImage;
import org.densecl.data.io.SegDataset;
import org.densecl.report.OverlayFigure;
import org.densecl.seg.FinetunedModel;

/**
 * overlays.png: test images with a recess, ground truth outlined white, the DenseCL model's prediction blue
 * and the Kaiming model's red (both trial 0's final models, last.safetensors, which the test metrics score).
 * The images are spread over the recess sizes of the test split (evenly spaced in the order of recess area),
 * so small and large recesses both show. Returns one line per image for the report: name, recess area and
 * each model's recess IoU on it.
 */
public final class OverlayPanels {
    private OverlayPanels() {}

    public static List<String> write(Path png, Backend be, SegDataset test, Path denseclCheckpoint, Path kaimingCheckpoint,
                                     int count) {
        List<int[]> withRecess = new ArrayList<>(); // (index, recess pixels) of test images with a recess
        for (int i = 0; i < test.size(); i++) {
            int area = area(test.load(i).labels());
            if (area > 0) {
                withRecess.add(new int[] {i, area});
            }
        }
        if (withRecess.isEmpty()) {
            throw new IllegalStateException("overlays: no test image of " + test + " shows a recess");
        }
        withRecess.sort(Comparator.comparingInt((int[] a) -> a[1]).thenComparingInt(a -> a[0]));
        int n = Math.min(count, withRecess.size());
        int[] chosen = new int[n]; // (n) test indices, small recess to large
        for (int k = 0; k < n; k++) {
            chosen[k] = withRecess.get(n == 1 ? 0 : (int) Math.round((double) k * (withRecess.size() - 1) / (n - 1)))[0];
        }
        SegDataset picked = test.subset(chosen, "overlay images");
        Map<String, LabelImage> dense = predict(be, denseclCheckpoint, picked), kaiming = predict(be, kaimingCheckpoint, picked);
        List<OverlayFigure.Panel> panels = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        int scale = 1;
        for (int k = 0; k < n; k++) {
            SegDataset.Item item = picked.load(k);
            LabelImage a = dense.get(item.name()), b = kaiming.get(item.name());
            panels.add(new OverlayFigure.Panel(item.image(), item.labels(), a, b));
            scale = Math.max(1, Math.min(4, 256 / Math.max(item.image().height(), item.image().width())));
            lines.add(String.format(Locale.ROOT, "%s: recess %d px; recess IoU DenseCL %.1f, Kaiming %.1f", item.name(),
                    area(item.labels()), 100 * iou(a, item.labels()), 100 * iou(b, item.labels())));
        }
        int columns = Math.min(n, 3);
        OverlayFigure.write(png, panels, OverlayFigure.Layout.columns(columns)
                .withNames("DenseCL (trial 0)", "Kaiming init (trial 0)").withScale(scale));
        return lines;
    }

    private static Map<String, LabelImage> predict(Backend be, Path checkpoint, SegDataset images) {
        Map<String, LabelImage> out = new HashMap<>();
        FinetunedModel.open(checkpoint).evaluator(be).evaluate(images, (sample, pred) -> out.put(sample.name(), pred));
        return out;
    }

    private static int area(LabelImage l) {
        int n = 0;
        for (byte v : l.labels()) {
            n += v == 1 ? 1 : 0;
        }
        return n;
    }

    /** Class 1's IoU on one image, ignored pixels left out (1 when neither has any). */
    private static double iou(LabelImage pred, LabelImage truth) {
        long inter = 0, union = 0;
        for (int p = 0; p < truth.labels().length; p++) {
            int t = truth.labels()[p] & 0xff;
            if (t == LabelImage.IGNORE) {
                continue;
            }
            boolean a = pred.labels()[p] == 1, b = t == 1;
            inter += a && b ? 1 : 0;
            union += a || b ? 1 : 0;
        }
        return union == 0 ? 1 : (double) inter / union;
    }
}
