package org.densecl.model;

import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.PoolGeometry;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.BatchNorm2d;
import org.densecl.nn.Conv2d;
import org.densecl.nn.GlobalAvgPool;
import org.densecl.nn.Init;
import org.densecl.nn.Linear;
import org.densecl.nn.MaxPool2d;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * torchvision's ResNet with explicit forward and backward passes:
 * <pre>
 *   x (N, H, W, Cin) -> conv1 7x7/2 (width) -> bn1 -> relu -> maxpool 3x3/2
 *     -> layer1 (C2, stride 4) -> layer2 (C3, 8) -> layer3 (C4, 16) -> layer4 (C5, 32)
 *     [-> avgpool -> fc (numClasses)]
 * </pre>
 * Stages are built as torchvision's {@code _make_layer}: the first block of a stage has the stride and,
 * when the shape changes, a 1x1 projection; with output stride 8 or 16 a stage's stride becomes dilation
 * and its first block uses the previous dilation (so layer3/layer4 of R50-D8 use 1,2,2,.. and 2,4,4).
 *
 * <p>Parameters are registered under torchvision's state-dict keys (after an optional prefix) in its
 * order. Batch and input size are fixed at construction; {@link #forward} and {@link #backward} allocate
 * nothing. Gradients reach the network through the activation handles: a loss adds into
 * {@link #logits()}{@code .grad()} and/or any stage output's grad ({@link #stage}), then
 * {@link #backward} propagates everything. The trainer zeroes both registries' gradients once per step;
 * the gradients no one outside writes (inside blocks, the outputs of all but a stage's last block, the
 * stem's conv and pool outputs) are assigned by their first writer instead and need no zeroing.
 */
public final class ResNet {
    private final Backend be;
    private final ResNetConfig cfg;
    private final Parameters params;
    private final Activations acts;
    private final Shape inputShape;   // (N, H, W, Cin)
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final MaxPool2d maxpool;
    private final Act stemConv;       // (N, H/2, W/2, width)  conv1 output
    private final Act stemBn;         // (N, H/2, W/2, width)  bn1 + relu
    private final Act stemPool;       // (N, H/4, W/4, width)  maxpool: layer1's input
    private final ResidualBlock[][] layers;
    private final GlobalAvgPool avgpool; // null without classifier
    private final Linear fc;             // null without classifier
    private final Act pooled;         // (N, C5 channels)  avgpool output
    private final Act logits;         // (N, numClasses)
    private Tensor input;             // the last forward's x, read by backward

    /**
     * Declares the network in {@code params} and {@code acts}; the caller allocates both registries
     * (possibly after declaring more, such as a head). If {@code params} is already allocated the network
     * binds to its weights instead (see {@link Parameters}).
     *
     * @param prefix prepended to every name ("" for torchvision keys, "encoder_q.0." inside a bigger model)
     */
    public ResNet(Backend be, ResNetConfig cfg, Parameters params, Activations acts, String prefix,
                  int batch, int height, int width) {
        this.be = be;
        this.cfg = cfg;
        this.params = params;
        this.acts = acts;
        inputShape = Shape.of(batch, height, width, cfg.inChannels());
        ConvGeometry g = ConvGeometry.of(batch, height, width, cfg.inChannels(), cfg.width(), 7, 2, 3, 1);
        conv1 = new Conv2d(be, params, prefix + "conv1", g, false);
        bn1 = new BatchNorm2d(be, params, acts, prefix + "bn1", g.yShape(), true, cfg.bnMomentum(), cfg.bnEps());
        PoolGeometry pg = PoolGeometry.resnetStem(batch, g.p(), g.q(), cfg.width());
        maxpool = new MaxPool2d(be, prefix + "maxpool", pg);
        stemConv = acts.act(prefix + "conv1", g.yShape());
        stemBn = acts.act(prefix + "bn1", g.yShape());
        stemPool = acts.act(prefix + "maxpool", pg.yShape());

        layers = new ResidualBlock[4][];
        Shape x = pg.yShape();
        int dilation = 1;
        for (int s = 0; s < 4; s++) {
            int stride = s == 0 ? 1 : 2, previousDilation = dilation;
            if (cfg.dilated(s)) {
                dilation *= stride;
                stride = 1;
            }
            int planes = cfg.planes(s);
            layers[s] = new ResidualBlock[cfg.blocks().get(s)];
            for (int b = 0; b < layers[s].length; b++) {
                String name = prefix + "layer" + (s + 1) + "." + b;
                boolean first = b == 0;
                boolean project = first && (stride != 1 || x.last() != cfg.stageChannels(s));
                int st = first ? stride : 1, dil = first ? previousDilation : dilation;
                layers[s][b] = cfg.bottleneck()
                        ? new Bottleneck(be, params, acts, name, cfg, x, planes, st, dil, project)
                        : new BasicBlock(be, params, acts, name, cfg, x, planes, st, dil, project);
                x = layers[s][b].output().shape();
            }
        }

        // Not the stage outputs: a loss may add into those (see the class comment).
        acts.assignsGrad(stemConv);
        acts.assignsGrad(stemPool);
        for (ResidualBlock[] layer : layers) {
            for (int b = 0; b < layer.length - 1; b++) {
                acts.assignsGrad(layer[b].output());
            }
        }

        if (cfg.numClasses() > 0) {
            avgpool = new GlobalAvgPool(be, prefix + "avgpool", x);
            fc = new Linear(be, params, prefix + "fc", batch, x.last(), cfg.numClasses(), true);
            pooled = acts.act(prefix + "avgpool", avgpool.outputShape());
            logits = acts.act(prefix + "fc", fc.outputShape());
        } else {
            avgpool = null;
            fc = null;
            pooled = null;
            logits = null;
        }
    }

    /** A network with its own registries, allocated: the usual way to make a standalone model. */
    public static ResNet create(Backend be, ResNetConfig cfg, DType dtype, int batch, int height, int width) {
        ResNet net = new ResNet(be, cfg, new Parameters(dtype), new Activations(dtype), "", batch, height, width);
        net.params.allocate(be);
        net.acts.allocate(be);
        return net;
    }

    public ResNetConfig config() {
        return cfg;
    }

    public Parameters parameters() {
        return params;
    }

    public Activations activations() {
        return acts;
    }

    /** (N, H, W, Cin). */
    public Shape inputShape() {
        return inputShape;
    }

    /** Block {@code b} of stage {@code s} (0 = layer1): "layer{s+1}.{b}". */
    public ResidualBlock block(int s, int b) {
        return layers[s][b];
    }

    /** Every convolution, stem first, in torchvision's order (FLOP counts, benchmarks, inspection). */
    public List<Conv2d> convs() {
        List<Conv2d> all = new ArrayList<>();
        all.add(conv1);
        for (ResidualBlock[] layer : layers) {
            for (ResidualBlock block : layer) {
                all.addAll(block.convs());
            }
        }
        return all;
    }

    /** Output of stage {@code s} (0 = layer1 = C2, ..., 3 = layer4 = C5). */
    public Act stage(int s) {
        ResidualBlock[] layer = layers[s];
        return layer[layer.length - 1].output();
    }

    /** C5: layer4's output, (N, H/32, W/32, 8 * width * expansion) at output stride 32. */
    public Act c5() {
        return stage(3);
    }

    /** The classifier's output (N, numClasses); throws for a backbone without classifier. */
    public Act logits() {
        if (logits == null) {
            throw new IllegalStateException("ResNet: no classifier (numClasses 0), so no logits");
        }
        return logits;
    }

    /** Initialises every parameter and buffer from {@code seed} (see {@link Init}). */
    public void initialize(long seed) {
        initialize(new Init(be, seed));
    }

    /** Kaiming convs (cfg.fanMode), BN gamma 1 beta 0, optional zero last gamma, PyTorch-default fc. */
    public void initialize(Init init) {
        conv1.initialize(init, cfg.fanMode());
        bn1.initialize(init, 1f);
        for (ResidualBlock[] layer : layers) {
            for (ResidualBlock block : layer) {
                block.initialize(init, cfg.fanMode(), cfg.zeroInitResidual());
            }
        }
        if (fc != null) {
            fc.initializeDefault(init);
        }
    }

    /**
     * The forward pass: fills C2..C5 and, with a classifier, the logits. In training mode BN uses batch
     * statistics and updates its running ones. x (N, H, W, Cin) is remembered for {@link #backward}.
     */
    public void forward(Tensor x, boolean training) {
        Check.shape("ResNet.forward", "x", x, inputShape);
        Check.dtype("ResNet.forward", "x", x, acts.dtype());
        input = x;
        conv1.forward(x, stemConv.value());
        bn1.forward(stemConv.value(), stemBn.value(), training);
        maxpool.forward(stemBn.value(), stemPool.value());
        Tensor h = stemPool.value();
        for (ResidualBlock[] layer : layers) {
            for (ResidualBlock block : layer) {
                block.forward(h, training);
                h = block.output().value();
            }
        }
        if (fc != null) {
            avgpool.forward(h, pooled.value());
            fc.forward(pooled.value(), logits.value());
        }
    }

    /**
     * The backward pass, the forward in reverse: reads the gradients accumulated in the logits and stage
     * outputs, adds into every parameter gradient and, unless {@code dx} is null, into dx (N, H, W, Cin).
     * Must follow a training-mode {@link #forward}.
     */
    public void backward(Tensor dx) {
        if (input == null) {
            throw new IllegalStateException("ResNet.backward before any forward");
        }
        if (fc != null) {
            fc.backward(pooled.value(), logits.grad(), pooled.grad());
            avgpool.backward(pooled.grad(), c5().grad());
        }
        for (int s = 3; s >= 0; s--) {
            for (int b = layers[s].length - 1; b >= 0; b--) {
                Act in = blockInput(s, b);
                layers[s][b].backward(in.value(), in.grad(), !in.gradAssigned());
            }
        }
        maxpool.backward(stemBn.value(), stemPool.value(), stemPool.grad(), stemBn.grad());
        bn1.backward(stemConv.value(), stemBn.value(), stemBn.grad(), stemConv.grad(), !stemConv.gradAssigned());
        conv1.backward(input, stemConv.grad(), dx);
    }

    private Act blockInput(int s, int b) {
        if (b > 0) {
            return layers[s][b - 1].output();
        }
        return s == 0 ? stemPool : stage(s - 1);
    }
}
