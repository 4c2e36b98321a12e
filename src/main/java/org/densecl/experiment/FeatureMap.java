package org.densecl.experiment;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.io.GrayImage;
import org.densecl.model.ResNetConfig;
import org.densecl.report.TsnePlot;
import org.densecl.seg.eval.Tsne;

/**
 * tsne.png: one t-SNE map of the test images' globally pooled C5 features under several backbones (trial 0's
 * two fine-tuned models, and optionally the pretrained DenseCL backbone and Kaiming's init before any
 * fine-tuning), coloured by backbone. Each feature vector is scaled to unit length first, so that a
 * backbone's overall activation scale (large for an untrained one) does not decide the map. Different
 * backbones live in different feature spaces, so their clouds separate by construction: what a cloud says
 * is how it is spread, i.e. whether that backbone tells the test images apart.
 */
public final class FeatureMap {
    /** One backbone: its legend name, colour and weights. */
    public record Source(String name, Color color, BackboneFeatures.Weights weights) {}

    private FeatureMap() {}

    public static void write(Path png, Backend be, ResNetConfig backbone, List<GrayImage> images,
                             AugmentConfig.Segmentation norm, List<Source> sources) {
        List<float[]> rows = new ArrayList<>();
        List<String> groups = new ArrayList<>();
        Map<String, Color> colours = new LinkedHashMap<>();
        for (Source s : sources) {
            for (float[] f : BackboneFeatures.of(be, backbone, s.weights(), images, norm)) {
                rows.add(unit(f));
                groups.add(s.name());
            }
            colours.put(s.name(), s.color());
        }
        int n = rows.size();
        // scikit-learn's default perplexity 30, lowered for small maps: it must stay below n - 1
        Tsne.Options opts = Tsne.Options.defaults(0).withPerplexity(Math.min(30, (n - 1) / 3.0));
        double[][] xy = Tsne.embed(rows.toArray(float[][]::new), opts);
        TsnePlot.write(png, "t-SNE of pooled C5 features of " + images.size() + " test images, by backbone", xy, groups,
                colours);
    }

    private static float[] unit(float[] f) {
        double ss = 0;
        for (float v : f) {
            ss += (double) v * v;
        }
        float inv = (float) (1 / Math.max(Math.sqrt(ss), 1e-12));
        float[] out = new float[f.length]; // (C5 channels)
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i] * inv;
        }
        return out;
    }
}
