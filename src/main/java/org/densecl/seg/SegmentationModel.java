package org.densecl.seg;

import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.data.Seeds;
import org.densecl.model.ResNet;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.Init;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * mmsegmentation's FCN R50-D8 (spec 4.2, 4.3) with explicit forward and backward passes:
 * <pre>
 *   images (N, H, W, Cin) -> ResNet (output stride 8) -> C4 (layer3), C5 (layer4)
 *   decode_head    = FcnHead(C5)   logits (N, H/8, W/8, K) -> bilinear to (N, H, W, K) -> CE_decode
 *   auxiliary_head = FcnHead(C4)   logits (N, H/8, W/8, K) -> bilinear to (N, H, W, K) -> CE_aux
 *   loss = CE_decode + auxWeight * CE_aux
 * </pre>
 * Cross-entropy is per pixel with ignore index 255, averaged over ALL N*H*W pixels, ignored ones included
 * (mmseg's avg_non_ignore = False): an ignored pixel adds 0 to the sum and 1 to the denominator. Labels are
 * I32 (N, H, W) at the input size, as mmseg's crops are.
 *
 * <p>Registries. The backbone has its own {@link Parameters} under plain torchvision names, so pretrained
 * weights (torchvision, or a DenseCL checkpoint's query backbone) load into {@link #backbone()} with
 * {@code StateDict.load} as they are; the two heads share another under mmseg's names ("decode_head.*",
 * "auxiliary_head.*"). mmseg's whole-model keys are the backbone's with "backbone." in front, plus the heads'
 * ({@link #stateDictKeys()}). An optimiser steps both registries (e.g. one {@code Sgd} each).
 *
 * <p>Everything is planned in the constructor for one (batch, input size); a step allocates nothing. The
 * two heads' resized logits, their gradient and the softmax share one set of (N, H, W, K) buffers: the
 * decode head's loss and gradient are finished (down to its 1/8 logits) before the auxiliary head's begin,
 * which halves the largest buffers of the model.
 */
public final class SegmentationModel {
    /** mmseg's ignore_index: pixels with this label carry no loss (but count in its denominator). */
    public static final int IGNORE_INDEX = 255;

    /**
     * The loss terms of one step: total = decode + auxWeight * aux, where decode and aux are the heads' own
     * cross-entropies before weighting (mmseg logs aux.loss_ce already multiplied by its weight).
     */
    public record Losses(double total, double decode, double aux) {}

    private final Backend be;
    private final SegmentationConfig cfg;
    private final int numClasses;
    private final Shape labelShape;       // (N, H, W)
    private final ResNet backbone;
    private final Parameters headParams;
    private final Activations headActs;
    private final FcnHead decode;         // on C5 (N, H/8, W/8, 8 * width * 4)
    private final FcnHead aux;            // on C4 (N, H/8, W/8, 4 * width * 4)
    private final Act up;                 // (N, H, W, K) a head's logits at label size; grad: its CE gradient
    private final Tensor probs;           // (N, H, W, K) softmax of up, kept for the CE backward
    private final Tensor lossDecode;      // (1)
    private final Tensor lossAux;         // (1)
    private final float[] host = new float[1]; // (1) a loss read back from a device backend
    private long dropoutSeed;             // set by initialize; step s draws mix(dropoutSeed, s, head)

    /**
     * @param dtype      F32, or F64 on the reference backend for gradient checks
     * @param numClasses K, 1..255 (255 is the ignore label, so it cannot be a class)
     */
    public SegmentationModel(Backend be, SegmentationConfig cfg, DType dtype, int batch, int height, int width,
                             int numClasses) {
        if (numClasses < 1 || numClasses > IGNORE_INDEX) {
            throw new IllegalArgumentException("SegmentationModel: numClasses must be in [1, " + IGNORE_INDEX
                    + "] (label " + IGNORE_INDEX + " means ignore), not " + numClasses);
        }
        this.be = be;
        this.cfg = cfg;
        this.numClasses = numClasses;
        labelShape = Shape.of(batch, height, width);
        Parameters backboneParams = new Parameters(dtype);
        Activations backboneActs = new Activations(dtype);
        backbone = new ResNet(be, cfg.backbone(), backboneParams, backboneActs, "", batch, height, width);
        headParams = new Parameters(dtype);
        headActs = new Activations(dtype);
        decode = new FcnHead(be, headParams, headActs, "decode_head", backbone.c5().shape(), cfg.decodeHead(),
                numClasses);
        aux = new FcnHead(be, headParams, headActs, "auxiliary_head", backbone.stage(2).shape(), cfg.auxHead(),
                numClasses);
        Shape full = Shape.of(batch, height, width, numClasses);
        up = headActs.act("resize", full);
        headActs.assignsGrad(up); // zeroed explicitly before each head's CE backward (see headLoss)
        backboneParams.allocate(be);
        backboneActs.allocate(be);
        headParams.allocate(be);
        headActs.allocate(be);
        probs = be.allocate(dtype, full);
        lossDecode = be.allocate(dtype, Shape.of(1));
        lossAux = be.allocate(dtype, Shape.of(1));
    }

    /**
     * Initialises every parameter and buffer from {@code seed}: the backbone as its config says (Kaiming
     * with cfg.fanMode, BN 1/0), the heads as mmcv does (see FcnHead#initialize), and the dropout stream.
     * Load pretrained backbone weights after this.
     */
    public void initialize(long seed) {
        Init init = new Init(be, seed); // streams are per tensor name, and the two registries' names differ
        backbone.initialize(init);
        decode.initialize(init);
        aux.initialize(init);
        dropoutSeed = Seeds.mix(seed, 0x64726f70L); // "drop"
    }

    /**
     * One training step's forward and backward, without any parameter update: zeroes every gradient, runs
     * the backbone and heads in training mode (BN batch statistics, running ones updated; dropout), computes
     * both losses and ACCUMULATES from zero the gradients of the backbone and head parameters.
     *
     * @param images (N, H, W, Cin)
     * @param labels I32 (N, H, W): classes in [0, K) or {@link #IGNORE_INDEX}
     * @param step   the training step: it alone chooses the dropout channels (with the init seed), so a
     *               resumed run draws the same masks, and a gradient check can repeat a step exactly
     */
    public Losses lossAndGradients(Tensor images, Tensor labels, long step) {
        Check.dtype("SegmentationModel", "labels", labels, DType.I32);
        Check.shape("SegmentationModel", "labels", labels, labelShape);
        backbone.parameters().zeroGrads();
        backbone.activations().zeroGrads();
        headParams.zeroGrads();
        headActs.zeroGrads();

        backbone.forward(images, true);
        decode.forward(backbone.c5().value(), true, Seeds.mix(dropoutSeed, step, 0));
        aux.forward(backbone.stage(2).value(), true, Seeds.mix(dropoutSeed, step, 1));
        double ceDecode = headLoss(decode, labels, 1f, lossDecode);
        double ceAux = headLoss(aux, labels, cfg.auxWeight(), lossAux);

        decode.backward(backbone.c5().grad());
        aux.backward(backbone.stage(2).grad());
        backbone.backward(null);
        return new Losses(ceDecode + (double) cfg.auxWeight() * ceAux, ceDecode, ceAux);
    }

    /**
     * Resize a head's logits to the label size, its CE (returned, unweighted), and weight * dCE/dlogits added
     * into the head's 1/8 logits gradient.
     */
    private double headLoss(FcnHead head, Tensor labels, float weight, Tensor loss) {
        boolean ac = cfg.alignCorners();
        be.resizeBilinearForward(head.logits().value(), up.value(), ac);
        be.softmaxCrossEntropyForward(up.value(), labels, IGNORE_INDEX, false, probs, loss);
        be.zero(up.grad()); // the CE backward accumulates, and up's gradient still holds the other head's
        be.softmaxCrossEntropyBackward(probs, labels, IGNORE_INDEX, false, weight, up.grad());
        be.resizeBilinearBackward(up.grad(), head.logits().grad(), ac);
        return read(loss);
    }

    /**
     * Inference as mmseg's 'whole' mode: backbone and decode head in evaluation mode (BN running statistics,
     * no dropout), the logits bilinearly resized to the input size. Returns the (N, H, W, K) logits in a
     * model buffer that the next call of either method overwrites; argmax over K gives the prediction.
     */
    public Tensor predict(Tensor images) {
        backbone.forward(images, false);
        decode.forward(backbone.c5().value(), false, 0);
        be.resizeBilinearForward(decode.logits().value(), up.value(), cfg.alignCorners());
        return up.value();
    }

    private double read(Tensor scalar) {
        if (be.isHost()) {
            return scalar.get(0); // exact in F64 (gradient checks)
        }
        be.download(scalar, host);
        return host[0];
    }

    /**
     * mmseg's state-dict keys of the whole model, in its order: "backbone." + the backbone registry's keys,
     * then the heads' (decode_head.*, auxiliary_head.*).
     */
    public List<String> stateDictKeys() {
        List<String> keys = new ArrayList<>();
        for (String k : backbone.parameters().keys()) {
            keys.add("backbone." + k);
        }
        keys.addAll(headParams.keys());
        return keys;
    }

    public SegmentationConfig config() {
        return cfg;
    }

    public int numClasses() {
        return numClasses;
    }

    /** (N, H, W, Cin). */
    public Shape inputShape() {
        return backbone.inputShape();
    }

    /** (N, H, W): the labels, and the spatial size of {@link #predict}'s logits. */
    public Shape labelShape() {
        return labelShape;
    }

    /** The ResNet; its {@code parameters()} (torchvision names) is where pretrained weights load. */
    public ResNet backbone() {
        return backbone;
    }

    /** Both heads' parameters and buffers, under mmseg's names. */
    public Parameters headParameters() {
        return headParams;
    }

    /** The heads' activation plan (and the resized logits'); tests. */
    Activations headActivations() {
        return headActs;
    }

    public FcnHead decodeHead() {
        return decode;
    }

    public FcnHead auxiliaryHead() {
        return aux;
    }
}
