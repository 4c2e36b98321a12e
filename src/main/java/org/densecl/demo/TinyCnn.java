package org.densecl.demo;

import java.util.List;
import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.DType;
import org.densecl.tensor.Plan;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * The engine demo's network: a ResNet stem in miniature, every pass an explicit backend call.
 * <pre>
 *   x (N, S, S, 1) -> conv 3x3 (8) -> BN -> ReLU -> max pool 3x3/2 -> conv 3x3/2 (16) -> BN -> ReLU
 *     -> global average pool (N, 16) -> linear (N, 2) -> softmax cross-entropy
 * </pre>
 * Parameters, gradients, momentum buffers and activations each live in one slab planned at
 * construction, so {@link #trainStep} allocates nothing. Backward mirrors forward line by line.
 */
public final class TinyCnn {
    static final int C1 = 8, C2 = 16, CLASSES = 2;
    static final float BN_MOMENTUM = 0.1f, BN_EPS = 1e-5f;

    private final Backend be;
    private final int n;
    private final ConvGeometry conv1, conv2;
    private final PoolGeometry pool;
    private final Plan params = new Plan(), grads = new Plan(), momenta = new Plan(), acts = new Plan();
    private final List<String> trainable = List.of("conv1.weight", "bn1.weight", "bn1.bias",
            "conv2.weight", "bn2.weight", "bn2.bias", "fc.weight", "fc.bias");

    public TinyCnn(Backend backend, int batch, int size) {
        this.be = backend;
        this.n = batch;
        conv1 = ConvGeometry.of(n, size, size, 1, C1, 3, 1, 1, 1);
        pool = PoolGeometry.resnetStem(n, size, size, C1);
        conv2 = ConvGeometry.of(n, pool.p(), pool.q(), C1, C2, 3, 2, 1, 1);
        Shape[] shapes = {conv1.wShape(), Shape.of(C1), Shape.of(C1), conv2.wShape(), Shape.of(C2), Shape.of(C2),
                Shape.of(CLASSES, C2), Shape.of(CLASSES)};
        for (int i = 0; i < shapes.length; i++) {
            params.add(trainable.get(i), shapes[i]);
            grads.add(trainable.get(i), shapes[i]);
            momenta.add(trainable.get(i), shapes[i]);
        }
        params.add("bn1.running_mean", Shape.of(C1)).add("bn1.running_var", Shape.of(C1))
                .add("bn2.running_mean", Shape.of(C2)).add("bn2.running_var", Shape.of(C2));
        acts.add("x", conv1.xShape())                       // (N, S, S, 1)
                .add("labels", DType.I32, Shape.of(n))      // (N)
                .add("y1", conv1.yShape()).add("a1", conv1.yShape())   // (N, S, S, 8) conv, BN+ReLU
                .add("mean1", Shape.of(C1)).add("invStd1", Shape.of(C1))
                .add("p1", pool.yShape())                   // (N, S/2, S/2, 8)
                .add("y2", conv2.yShape()).add("a2", conv2.yShape())   // (N, S/4, S/4, 16)
                .add("mean2", Shape.of(C2)).add("invStd2", Shape.of(C2))
                .add("f", Shape.of(n, C2))                  // (N, 16) pooled features
                .add("logits", Shape.of(n, CLASSES)).add("probs", Shape.of(n, CLASSES))
                .add("loss", Shape.of(1))
                // gradients of activations, zeroed every step because backward accumulates
                .add("dlogits", Shape.of(n, CLASSES)).add("df", Shape.of(n, C2))
                .add("da2", conv2.yShape()).add("dy2", conv2.yShape())
                .add("dp1", pool.yShape()).add("da1", conv1.yShape()).add("dy1", conv1.yShape());
        params.allocate(be::allocateBytes, be.isHost());
        grads.allocate(be::allocateBytes, be.isHost());
        momenta.allocate(be::allocateBytes, be.isHost());
        acts.allocate(be::allocateBytes, be.isHost());
    }

    /** Kaiming-normal (fan_in, ReLU gain) convs, PyTorch's default uniform linear, BN gamma 1 beta 0. */
    public void initialize(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        kaimingNormal(r, p("conv1.weight"), 9);
        kaimingNormal(r, p("conv2.weight"), 9 * C1);
        float bound = (float) (1 / Math.sqrt(C2));
        uniform(r, p("fc.weight"), bound);
        uniform(r, p("fc.bias"), bound);
        for (String bn : List.of("bn1", "bn2")) {
            be.fill(p(bn + ".weight"), 1f);
            be.zero(p(bn + ".bias"));
            be.zero(p(bn + ".running_mean"));
            be.fill(p(bn + ".running_var"), 1f);
        }
    }

    /** Uploads a batch: images (N*S*S floats, NHWC with one channel) and labels (N). */
    public void setBatch(float[] images, int[] labels) {
        be.upload(images, acts.get("x"));
        be.upload(labels, acts.get("labels"));
    }

    /** Forward pass; in training mode BN uses batch statistics and updates its running ones. */
    public void forward(boolean training) {
        be.conv2dForward(conv1, a("x"), p("conv1.weight"), null, a("y1"));
        batchNorm("bn1", "y1", "mean1", "invStd1", "a1", training);
        be.maxPoolForward(pool, a("a1"), a("p1"));
        be.conv2dForward(conv2, a("p1"), p("conv2.weight"), null, a("y2"));
        batchNorm("bn2", "y2", "mean2", "invStd2", "a2", training);
        be.globalAvgPoolForward(a("a2"), a("f"));
        be.linearForward(a("f"), p("fc.weight"), p("fc.bias"), a("logits"));
        be.softmaxCrossEntropyForward(a("logits"), a("labels"), -1, false, a("probs"), a("loss"));
    }

    /** Backward pass, the forward in reverse; gradients accumulate into zeroed buffers. */
    public void backward() {
        for (String name : List.of("dlogits", "df", "da2", "dy2", "dp1", "da1", "dy1")) {
            be.zero(a(name));
        }
        for (String name : trainable) {
            be.zero(g(name));
        }
        be.softmaxCrossEntropyBackward(a("probs"), a("labels"), -1, false, 1f, a("dlogits"));
        be.linearBackward(a("f"), p("fc.weight"), a("dlogits"), a("df"), g("fc.weight"), g("fc.bias"));
        be.globalAvgPoolBackward(a("df"), a("da2"));
        be.batchNormBackward(a("y2"), a("da2"), p("bn2.weight"), a("mean2"), a("invStd2"), a("a2"), true,
                a("dy2"), g("bn2.weight"), g("bn2.bias"));
        be.conv2dBackwardFilter(conv2, a("p1"), a("dy2"), g("conv2.weight"), null);
        be.conv2dBackwardData(conv2, a("dy2"), p("conv2.weight"), a("dp1"));
        be.maxPoolBackward(pool, a("a1"), a("p1"), a("dp1"), a("da1"));
        be.batchNormBackward(a("y1"), a("da1"), p("bn1.weight"), a("mean1"), a("invStd1"), a("a1"), true,
                a("dy1"), g("bn1.weight"), g("bn1.bias"));
        be.conv2dBackwardFilter(conv1, a("x"), a("dy1"), g("conv1.weight"), null);
    }

    /** One SGD step on every trainable tensor. */
    public void sgd(float lr, float momentum, float weightDecay) {
        for (String name : trainable) {
            be.sgdStep(p(name), g(name), momenta.get(name), lr, momentum, weightDecay);
        }
    }

    /** Forward, backward and SGD on the uploaded batch; returns nothing so that no host sync is forced. */
    public void trainStep(float lr, float momentum, float weightDecay) {
        forward(true);
        backward();
        sgd(lr, momentum, weightDecay);
    }

    /** The last forward's loss (a host read: one float). */
    public float loss() {
        float[] out = new float[1];
        be.download(a("loss"), out);
        return out[0];
    }

    /** The last forward's class probabilities, (N, 2) row-major. */
    public float[] probabilities() {
        float[] out = new float[n * CLASSES];
        be.download(a("probs"), out);
        return out;
    }

    private void batchNorm(String bn, String x, String mean, String invStd, String y, boolean training) {
        if (training) {
            be.batchNormTrainForward(a(x), p(bn + ".weight"), p(bn + ".bias"), BN_MOMENTUM, BN_EPS,
                    p(bn + ".running_mean"), p(bn + ".running_var"), a(mean), a(invStd), a(y), true);
        } else {
            be.batchNormInferenceForward(a(x), p(bn + ".weight"), p(bn + ".bias"), p(bn + ".running_mean"),
                    p(bn + ".running_var"), BN_EPS, a(y), true);
        }
    }

    private void kaimingNormal(SplittableRandom r, Tensor w, int fanIn) {
        float[] v = new float[(int) w.numel()];
        double std = Math.sqrt(2.0 / fanIn);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
        be.upload(v, w);
    }

    private void uniform(SplittableRandom r, Tensor w, float bound) {
        float[] v = new float[(int) w.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((2 * r.nextDouble() - 1) * bound);
        }
        be.upload(v, w);
    }

    private Tensor p(String name) {
        return params.get(name);
    }

    private Tensor g(String name) {
        return grads.get(name);
    }

    private Tensor a(String name) {
        return acts.get(name);
    }
}
