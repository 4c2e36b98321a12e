package org.densecl.seg;

import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.BatchNorm2d;
import org.densecl.nn.Conv2d;
import org.densecl.nn.FanMode;
import org.densecl.nn.Init;
import org.densecl.nn.Parameters;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * mmsegmentation's FCNHead (spec 4.2) on one backbone map x (N, h, w, Cin), by hand:
 * <pre>
 *   convs.i    ConvModule: conv 3x3 pad 1, no bias -> BN (train mode) -> ReLU, Cin -> ch, then ch -> ch
 *   conv_cat   (concatInput) ConvModule 3x3 over the channel concatenation [x, convs output] -> ch
 *   dropout    Dropout2d(p): whole channels of a sample, training only
 *   conv_seg   conv 1x1 with bias, ch -> numClasses                                   = logits (N, h, w, K)
 * </pre>
 * Parameters are declared under mmseg's names after {@code prefix} ("decode_head", "auxiliary_head") in
 * its state_dict order: conv_seg first (BaseDecodeHead makes it before FCNHead adds its convs), then
 * convs.i.conv / convs.i.bn, then conv_cat.conv / conv_cat.bn. conv_cat's filter is one (ch, 3, 3, Cin + ch)
 * tensor with x's channels first, as torch.cat([x, output], dim=1) orders them, so it maps to mmseg's
 * weight one to one. The concatenation itself is a copy into a planned buffer ({@link Backend#copyChannels}):
 * splitting the conv into two convs on the two parts would need the filter's input-channel halves, which
 * KRSC interleaves (C is innermost), as separate tensors.
 *
 * <p>Gradients: a loss adds into {@link #logits()}{@code .grad()}; {@link #backward} ADDS into dx (the
 * backbone map's gradient, which other consumers share) and into every parameter gradient. The internal
 * gradients written whole by their first writer are marked assigned (no zeroing); the logits' gradient and,
 * with dropout, the dropout input's stay in the zeroed slab because their writers only accumulate.
 */
public final class FcnHead {
    /** mmseg's BN (SyncBN on one device) defaults. */
    static final float BN_MOMENTUM = 0.1f, BN_EPS = 1e-5f;

    private final Backend be;
    private final String prefix;
    private final FcnHeadConfig cfg;
    private final Shape xShape;           // (N, h, w, Cin)
    private final Conv2d convSeg;         // 1x1 ch -> K, bias
    private final Conv2d[] convs;         // 3x3 Cin -> ch, then ch -> ch
    private final BatchNorm2d[] bns;      // each with the ReLU fused
    private final Conv2d convCat;         // 3x3 Cin + ch -> ch; null without concatInput
    private final BatchNorm2d bnCat;      // null without concatInput
    private final Act[] convOut;          // (N, h, w, ch) convs.i conv output
    private final Act[] bnOut;            // (N, h, w, ch) convs.i BN + ReLU
    private final Act cat;                // (N, h, w, Cin + ch) [x, bnOut[last]]; null without concatInput
    private final Act catConv;            // (N, h, w, ch) conv_cat conv output; null without concatInput
    private final Act catBn;              // (N, h, w, ch) conv_cat BN + ReLU; null without concatInput
    private final Act features;           // (N, h, w, ch) the head's features: catBn or bnOut[last]
    private final Act dropped;            // (N, h, w, ch) dropout output; null when p == 0
    private final Act mask;               // (N, ch) dropout multipliers (0 or 1/(1-p)), value only; null when p == 0
    private final Act logits;             // (N, h, w, K)
    private Tensor input;                 // the last forward's x, read by backward
    private boolean lastTrained;

    /**
     * Declares the head in {@code params} and {@code acts} (the caller allocates both).
     *
     * @param prefix     mmseg's module name: "decode_head" or "auxiliary_head"
     * @param xShape     the input map (N, h, w, Cin)
     * @param numClasses conv_seg's outputs K
     */
    public FcnHead(Backend be, Parameters params, Activations acts, String prefix, Shape xShape, FcnHeadConfig cfg,
                   int numClasses) {
        if (xShape.rank() != 4) {
            throw new IllegalArgumentException(prefix + ": the input must be an (N, h, w, C) map, not " + xShape);
        }
        if (numClasses < 1) {
            throw new IllegalArgumentException(prefix + ": numClasses must be positive, not " + numClasses);
        }
        this.be = be;
        this.prefix = prefix;
        this.cfg = cfg;
        this.xShape = xShape;
        int n = xShape.dim(0), h = xShape.dim(1), w = xShape.dim(2), cin = xShape.dim(3), ch = cfg.channels();
        Shape y = Shape.of(n, h, w, ch);

        convSeg = new Conv2d(be, params, prefix + ".conv_seg", ConvGeometry.of(n, h, w, ch, numClasses, 1, 1, 0, 1),
                true);
        convs = new Conv2d[cfg.numConvs()];
        bns = new BatchNorm2d[cfg.numConvs()];
        convOut = new Act[cfg.numConvs()];
        bnOut = new Act[cfg.numConvs()];
        for (int i = 0; i < convs.length; i++) {
            String name = prefix + ".convs." + i;
            convs[i] = new Conv2d(be, params, name + ".conv", conv3x3(n, h, w, i == 0 ? cin : ch, ch), false);
            bns[i] = new BatchNorm2d(be, params, acts, name + ".bn", y, true, BN_MOMENTUM, BN_EPS);
            convOut[i] = acts.act(name + ".conv", y);
            bnOut[i] = acts.act(name + ".bn", y);
        }
        if (cfg.concatInput()) {
            convCat = new Conv2d(be, params, prefix + ".conv_cat.conv", conv3x3(n, h, w, cin + ch, ch), false);
            bnCat = new BatchNorm2d(be, params, acts, prefix + ".conv_cat.bn", y, true, BN_MOMENTUM, BN_EPS);
            cat = acts.act(prefix + ".cat", Shape.of(n, h, w, cin + ch));
            catConv = acts.act(prefix + ".conv_cat.conv", y);
            catBn = acts.act(prefix + ".conv_cat.bn", y);
            features = catBn;
        } else {
            convCat = null;
            bnCat = null;
            cat = null;
            catConv = null;
            catBn = null;
            features = bnOut[bnOut.length - 1];
        }
        if (cfg.dropout() > 0) {
            dropped = acts.act(prefix + ".dropout", y);
            mask = acts.saved(prefix + ".dropout.mask", Shape.of(n, ch));
        } else {
            dropped = null;
            mask = null;
        }
        logits = acts.act(prefix + ".conv_seg", convSeg.geometry().yShape());

        // Assigned by their first writer in backward (an accumulate = false call); see the class comment.
        List<Act> assigned = new ArrayList<>(List.of(convOut));
        assigned.addAll(List.of(bnOut).subList(0, bnOut.length - 1));
        if (cat != null) {
            assigned.addAll(List.of(cat, catConv, bnOut[bnOut.length - 1]));
        }
        // conv_seg writes the gradient of its input: the dropout output, or the features without dropout.
        assigned.add(dropped != null ? dropped : features);
        for (Act a : assigned) {
            acts.assignsGrad(a);
        }
    }

    private static ConvGeometry conv3x3(int n, int h, int w, int c, int k) {
        return ConvGeometry.of(n, h, w, c, k, 3, 1, 1, 1);
    }

    public FcnHeadConfig config() {
        return cfg;
    }

    /** (N, h, w, Cin). */
    public Shape inputShape() {
        return xShape;
    }

    /** The class scores at the input's resolution, (N, h, w, K). */
    public Act logits() {
        return logits;
    }

    /** Every convolution in mmseg's state_dict order: conv_seg, convs.i, conv_cat (FLOP counts, benchmarks). */
    public List<Conv2d> convs() {
        List<Conv2d> all = new ArrayList<>();
        all.add(convSeg);
        all.addAll(List.of(convs));
        if (convCat != null) {
            all.add(convCat);
        }
        return all;
    }

    /** The dropout multipliers of the last training forward (N, ch); null without dropout. Tests. */
    Act dropoutMask() {
        return mask;
    }

    /** mmcv's init: ConvModule convs Kaiming-normal (fan_out, ReLU gain), BN gamma 1 beta 0, conv_seg N(0, 0.01) bias 0. */
    public void initialize(Init init) {
        init.normal(convSeg.weight(), 0.01);
        init.constant(convSeg.bias(), 0f);
        for (int i = 0; i < convs.length; i++) {
            convs[i].initialize(init, FanMode.FAN_OUT);
            bns[i].initialize(init, 1f);
        }
        if (convCat != null) {
            convCat.initialize(init, FanMode.FAN_OUT);
            bnCat.initialize(init, 1f);
        }
    }

    /**
     * Fills {@link #logits()} from x (N, h, w, Cin). Training: BN on batch statistics (running ones updated)
     * and dropout with the channels chosen by {@code dropoutSeed} (see DropoutMask); evaluation: running
     * statistics, no dropout, the seed unused. x is remembered for {@link #backward}.
     */
    public void forward(Tensor x, boolean training, long dropoutSeed) {
        Check.shape(prefix, "x", x, xShape);
        input = x;
        lastTrained = training;
        Tensor h = x;
        for (int i = 0; i < convs.length; i++) {
            convs[i].forward(h, convOut[i].value());
            bns[i].forward(convOut[i].value(), bnOut[i].value(), training);
            h = bnOut[i].value();
        }
        if (convCat != null) {
            int cin = xShape.last();
            be.copyChannels(x, 0, cat.value(), 0, cin, false);
            be.copyChannels(h, 0, cat.value(), cin, cfg.channels(), false);
            convCat.forward(cat.value(), catConv.value());
            bnCat.forward(catConv.value(), catBn.value(), training);
        }
        Tensor segIn = features.value();
        if (training && dropped != null) {
            be.dropout2dForward(segIn, cfg.dropout(), dropoutSeed, mask.value(), dropped.value());
            segIn = dropped.value();
        }
        convSeg.forward(segIn, logits.value());
    }

    /**
     * The backward pass from the gradient in {@link #logits()}: parameter gradients += ..., dx (N, h, w, Cin)
     * += the input's gradient. Must follow a training-mode {@link #forward}.
     */
    public void backward(Tensor dx) {
        if (input == null || !lastTrained) {
            throw new IllegalStateException(prefix + ": backward needs a training-mode forward before it");
        }
        Check.shape(prefix, "dx", dx, xShape);
        if (dropped != null) {
            convSeg.backward(dropped.value(), logits.grad(), dropped.grad(), false);
            be.dropout2dBackward(mask.value(), dropped.grad(), features.grad());
        } else {
            convSeg.backward(features.value(), logits.grad(), features.grad(), false);
        }
        int last = convs.length - 1;
        if (convCat != null) {
            int cin = xShape.last();
            bnCat.backward(catConv.value(), catBn.value(), catBn.grad(), catConv.grad(), false);
            convCat.backward(cat.value(), catConv.grad(), cat.grad(), false);
            be.copyChannels(cat.grad(), 0, dx, 0, cin, true);
            be.copyChannels(cat.grad(), cin, bnOut[last].grad(), 0, cfg.channels(), false);
        }
        for (int i = last; i >= 0; i--) {
            bns[i].backward(convOut[i].value(), bnOut[i].value(), bnOut[i].grad(), convOut[i].grad(), false);
            if (i > 0) {
                convs[i].backward(bnOut[i - 1].value(), convOut[i].grad(), bnOut[i - 1].grad(), false);
            } else {
                convs[0].backward(input, convOut[0].grad(), dx, true);
            }
        }
    }
}
