package org.densecl.experiment;

import java.nio.file.Path;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.augment.Normalize;
import org.densecl.data.io.GrayImage;
import org.densecl.io.LoadReport;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Globally pooled C5 features of images under one backbone, for the report's t-SNE map: each image at its
 * own size, normalised as the fine-tuning pipeline does, through the backbone in evaluation mode (BN running
 * statistics), C5 averaged over space. The backbone is the fine-tuning model's (dilated, output stride 8), so
 * a fine-tuned model, the pretrained weights it started from and Kaiming's init are all seen the way the
 * segmentation head sees them.
 */
public final class BackboneFeatures {
    /** Puts weights into a freshly declared backbone (its registry allocated, zero until then). */
    @FunctionalInterface
    public interface Weights {
        void into(ResNet net, Backend be);
    }

    private BackboneFeatures() {}

    /** The backbone of a fine-tuning checkpoint (its keys under "backbone."). */
    public static Weights finetuned(Path checkpoint) {
        return (net, be) -> loadAll(checkpoint, net, be, List.of("backbone."));
    }

    /** A pretraining's backbone.safetensors (torchvision keys). */
    public static Weights pretrained(Path backbone) {
        return (net, be) -> loadAll(backbone, net, be, List.of());
    }

    /** mmseg's random init with this seed: what a Kaiming fine-tuning with run.seed = seed starts from. */
    public static Weights kaiming(long seed) {
        return (net, be) -> net.initialize(seed);
    }

    /** One row of C5 channels per image. */
    public static float[][] of(Backend be, ResNetConfig cfg, Weights weights, List<GrayImage> images,
                               AugmentConfig.Segmentation norm) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to embed");
        }
        int h = images.getFirst().height(), w = images.getFirst().width(), c = norm.channels();
        Parameters params = new Parameters(DType.F32);
        ResNet net = new ResNet(be, cfg, params, new Activations(DType.F32, true), "", 1, h, w);
        params.allocate(be);
        net.activations().allocate(be);
        weights.into(net, be);
        int features = net.c5().shape().last();
        Tensor x = be.allocate(DType.F32, net.inputShape());          // (1, H, W, Cin)
        Tensor pooled = be.allocate(DType.F32, Shape.of(1, features)); // (1, C5 channels)
        float[] host = new float[h * w * c];                           // (H, W, Cin)
        float[][] rows = new float[images.size()][features];           // (images, C5 channels)
        for (int i = 0; i < images.size(); i++) {
            GrayImage img = images.get(i);
            if (img.height() != h || img.width() != w) {
                throw new IllegalArgumentException("backbone features: image " + i + " is " + img.width() + "x"
                        + img.height() + ", the first " + w + "x" + h + "; the t-SNE features need one image size");
            }
            Normalize.write(img, false, (float) norm.mean(), (float) norm.std(), c, host, 0);
            be.upload(host, x);
            net.forward(x, false);
            be.globalAvgPoolForward(net.c5().value(), pooled);
            be.download(pooled, rows[i]);
        }
        return rows;
    }

    private static void loadAll(Path file, ResNet net, Backend be, List<String> prefixes) {
        LoadReport r = StateDict.load(file, net.parameters(), be, false, prefixes, false);
        if (!r.missing().isEmpty()) {
            throw new IllegalArgumentException(file + " lacks " + r.missing().size() + " backbone tensors, e.g. "
                    + r.missing().getFirst() + "; not a backbone of the fine-tuning config's model");
        }
    }
}
