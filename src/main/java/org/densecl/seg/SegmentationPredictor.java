package org.densecl.seg;

import org.densecl.backend.Backend;
import org.densecl.model.ResNet;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * mmseg's 'whole' inference of an FCN for one image of a given size (batch 1, as mmseg tests): backbone and
 * decode head in evaluation mode (BN running statistics, no dropout), the logits bilinearly resized to the
 * image size, argmax over classes. Its activation plan is inference-only (no gradients), so validating at
 * another size than the training crop costs one image's activations, not a second training model.
 *
 * <p>The weights are registries it is given, never copied: a {@link SegmentationModel}'s while training
 * ({@link #sharing}), or its own for evaluating a saved file ({@link #standalone}; only the decode head is
 * declared, the auxiliary head plays no part in inference). {@link #resized} makes a predictor for another
 * image size on the same weights; {@link SlidingWindow} runs one on the windows of a larger image.
 */
public final class SegmentationPredictor {
    private final Backend be;
    private final SegmentationConfig cfg;
    private final int numClasses;
    private final Parameters backboneParams;
    private final Parameters headParams;
    private final ResNet backbone;
    private final FcnHead decode;
    private final Act up;               // (1, H, W, K) logits at the image size
    private final Tensor input;         // (1, H, W, Cin)
    private final float[] hostLogits;   // (H, W, K)

    private SegmentationPredictor(Backend be, SegmentationConfig cfg, int numClasses, Parameters backboneParams,
                                  Parameters headParams, int height, int width) {
        this.be = be;
        this.cfg = cfg;
        this.numClasses = numClasses;
        this.backboneParams = backboneParams;
        this.headParams = headParams;
        Activations acts = new Activations(backboneParams.dtype(), true);
        backbone = new ResNet(be, cfg.backbone(), backboneParams, acts, "", 1, height, width);
        decode = new FcnHead(be, headParams, acts, "decode_head", backbone.c5().shape(), cfg.decodeHead(), numClasses);
        up = acts.act("resize", Shape.of(1, height, width, numClasses));
        if (!backboneParams.allocated()) {
            backboneParams.allocate(be);
        }
        if (!headParams.allocated()) {
            headParams.allocate(be);
        }
        acts.allocate(be);
        input = be.allocate(backboneParams.dtype(), backbone.inputShape());
        hostLogits = new float[height * width * numClasses];
    }

    /** Inference at height x width on the weights of {@code model} (they keep training; nothing is copied). */
    public static SegmentationPredictor sharing(Backend be, SegmentationModel model, int height, int width) {
        return new SegmentationPredictor(be, model.config(), model.numClasses(), model.backbone().parameters(),
                model.headParameters(), height, width);
    }

    /**
     * A predictor with its own weights (F32, zero until loaded): fill {@link #backboneParameters()} (torchvision
     * names) and {@link #headParameters()} (mmseg's decode_head.* names), e.g. with FinetuneCheckpoint.
     */
    public static SegmentationPredictor standalone(Backend be, SegmentationConfig cfg, int numClasses, int height,
                                                   int width) {
        return new SegmentationPredictor(be, cfg, numClasses, new Parameters(DType.F32), new Parameters(DType.F32),
                height, width);
    }

    /** A predictor for another image size on the same weights. */
    public SegmentationPredictor resized(int height, int width) {
        return new SegmentationPredictor(be, cfg, numClasses, backboneParams, headParams, height, width);
    }

    /** The image size this predictor takes, (1, H, W, Cin). */
    public Shape inputShape() {
        return backbone.inputShape();
    }

    public int numClasses() {
        return numClasses;
    }

    public Parameters backboneParameters() {
        return backboneParams;
    }

    public Parameters headParameters() {
        return headParams;
    }

    /**
     * Classifies one normalised image (H, W, Cin) into {@code classes} (H, W): for every pixel the class of
     * the largest logit, the lowest class on a tie (torch.argmax).
     */
    public void predict(float[] image, byte[] classes) {
        Shape in = backbone.inputShape();
        if (classes.length != in.dim(1) * in.dim(2)) {
            throw new IllegalArgumentException("SegmentationPredictor: expected " + in.dim(1) + "x" + in.dim(2)
                    + " outputs, got " + classes.length);
        }
        argmax(logits(image), numClasses, classes);
    }

    /**
     * The logits (H, W, K) of one normalised image (H, W, Cin), resized to the image size: what mmseg's
     * encode_decode returns and its slide mode sums. The array is this predictor's buffer, overwritten by the
     * next call.
     */
    public float[] logits(float[] image) {
        Shape in = backbone.inputShape();
        if (image.length != in.dim(1) * in.dim(2) * in.dim(3)) {
            throw new IllegalArgumentException("SegmentationPredictor: expected an image of " + in.dim(1) + "x"
                    + in.dim(2) + "x" + in.dim(3) + " = " + in.dim(1) * in.dim(2) * in.dim(3) + " values, got "
                    + image.length);
        }
        be.upload(image, input);
        backbone.forward(input, false);
        decode.forward(backbone.c5().value(), false, 0);
        be.resizeBilinearForward(decode.logits().value(), up.value(), cfg.alignCorners());
        be.download(up.value(), hostLogits);
        return hostLogits;
    }

    /** Per pixel of {@code logits} (P, K), the class of the largest logit into classes (P); the lowest on a tie. */
    static void argmax(float[] logits, int numClasses, byte[] classes) {
        for (int p = 0; p < classes.length; p++) {
            int best = 0, o = p * numClasses;
            for (int k = 1; k < numClasses; k++) {
                if (logits[o + k] > logits[o + best]) {
                    best = k;
                }
            }
            classes[p] = (byte) best;
        }
    }
}
