package org.densecl.densecl;

import org.densecl.backend.Backend;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Init;
import org.densecl.nn.Parameters;
import org.densecl.nn.Sgd;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.train.NonFiniteCheck;

/**
 * DenseCL pretraining (spec 2.1): query encoder (ResNet backbone + {@link DenseClNeck}) trained by SGD,
 * key encoder its momentum average, two {@link FeatureQueue}s. One {@link #step} is, explicitly:
 * <ol>
 *   <li>momentum update of the key encoder (before the key forward);</li>
 *   <li>query forward; key forward (no gradient; BN in train mode on the key batch's own statistics);</li>
 *   <li>L2 norms: q, qgrid, qb (query C5) and k, kgrid, kb (key C5), k2 (pooled key grid);</li>
 *   <li>global InfoNCE of q against k and queue, weight (1 - lambda) / N; dense InfoNCE of every qgrid row
 *       against the kgrid row matched by {@code denseMatch(qb, kb)} and queue2, weight lambda / (N * S2);</li>
 *   <li>backward: l2NormalizeBackward of q and qgrid, the neck (both heads summed into C5), the backbone;</li>
 *   <li>SGD; enqueue k into queue and k2 into queue2.</li>
 * </ol>
 * lambda = 0 skips the dense loss: MoCo v2.
 *
 * <p>Shuffle-BN emulation (spec 2.7) with {@code opt.bnGroups() = G > 1}: the QUERY backbone normalises
 * each contiguous group of N / G images on its own (G ResNet instances bound to one weight registry, one
 * activation plan each; their gradients add up in the shared gradient tensors), and the KEY images are
 * permuted by a random permutation (seeded by (seed, step), so a resumed run draws the same) and run in G
 * groups, each with its own train-mode BN statistics. C5 rows are put back in batch order before the necks
 * (which have no BN). One difference from G GPUs: the shared BN running statistics and num_batches_tracked
 * are updated G times per step (the reference keeps G copies and saves GPU 0's).
 *
 * <p>Registries: the query backbone has its own {@link Parameters} with plain torchvision names (so it
 * exports as-is), the query neck another; the key side mirrors both. Everything is planned in the
 * constructor; a step allocates nothing.
 */
public final class DenseClModel {
    /** F.normalize's eps. */
    static final float NORM_EPS = 1e-12f;

    private final Backend be;
    private final DenseClOptions opt;
    private final int n;
    private final int s2;            // C5 locations per image
    private final int c;             // C5 channels
    private final ResNet backboneQ;         // query group 0 (owns the registry); all of it when G = 1
    private final ResNet[] queryGroups;     // G query instances sharing backboneQ's weights
    private final Tensor c5qFull;           // (N, S, S, C) query C5 in batch order (G > 1: a copy of the groups')
    private final Tensor dc5qFull;          // (N, S, S, C) its gradient (G > 1: copied out to the groups)
    private final ResNet backboneK;
    private final Parameters neckParamsQ;
    private final Parameters neckParamsK;
    private final Activations neckActsQ;
    private final DenseClNeck neckQ;
    private final DenseClNeck neckK;
    private final MomentumEncoder emaBackbone;
    private final MomentumEncoder emaNeck;
    private final Sgd sgdBackbone;
    private final Sgd sgdNeck;
    private final FeatureQueue queue;   // global keys
    private final FeatureQueue queue2;  // pooled dense keys
    private final Tensor q, qNorms;         // (N, D), (N)
    private final Tensor dq;                // (N, D)      gradient of the normalised q
    private final Tensor qgrid, qgridNorms; // (N*S2, D), (N*S2)
    private final Tensor dqgrid;            // (N*S2, D)
    private final Tensor qb, qbNorms;       // (N*S2, C), (N*S2)  matching only, no gradient
    private final Tensor k, kNorms;         // (N, D), (N)
    private final Tensor kgrid, kgridNorms; // (N*S2, D), (N*S2)
    private final Tensor kb, kbNorms;       // (N*S2, C), (N*S2)
    private final Tensor k2, k2Norms;       // (N, D), (N)
    private final Tensor matches;           // (N, S2) I32: key location of every query location
    private final Tensor kpos;              // (N, S2, D) matched normalised key grid rows
    private final Tensor lossGlobal;        // (1)  (1 - lambda) * L_global
    private final Tensor lossDense;         // (1)  lambda * L_dense
    private final float[] host = new float[1];
    private final float[] hostQ, hostK;     // (N, D) copies of q and k for embeddingStats
    private final float[] hostHidden;       // (N, H) copy of the global head's hidden ReLU output
    private final int groupSize;             // images per BN group: N / bnGroups
    private final Tensor keyIn;             // (N/G, H, W, Cin)  one permuted key group (G > 1 only)
    private final Tensor c5kFull;           // (N, S, S, C)      key C5 back in batch order (G > 1 only)
    private final int[] perm;               // (N) key permutation of this step
    private long shuffleSeed;
    private long stepsTaken;                // steps run by this instance (permutation index of 3-argument steps)
    private long permutationStep;
    private float lambda;                   // dense weight now: opt.lambda(), or 0 during a warm-up (spec 2.4)

    /** Loss terms of one step: total = global + dense, each already weighted ((1 - lambda), lambda). */
    public record Losses(double total, double global, double dense) {}

    public DenseClModel(Backend be, ResNetConfig cfg, DType dtype, int batch, int height, int width,
                        DenseClOptions opt) {
        if (cfg.numClasses() != 0) {
            throw new IllegalArgumentException("DenseClModel: the backbone must have no classifier");
        }
        if (opt.queueSize() % batch != 0) {
            throw new IllegalArgumentException("DenseClModel: queue size " + opt.queueSize()
                    + " must be a multiple of the batch " + batch);
        }
        this.be = be;
        this.opt = opt;
        this.n = batch;
        this.lambda = opt.lambda();
        Parameters bpQ = new Parameters(dtype), bpK = new Parameters(dtype);
        Activations baQ = new Activations(dtype), baK = new Activations(dtype, true);
        if (batch % opt.bnGroups() != 0) {
            throw new IllegalArgumentException("DenseClModel: the batch " + batch + " must split into bnGroups "
                    + opt.bnGroups() + " equal groups");
        }
        groupSize = batch / opt.bnGroups();
        backboneQ = new ResNet(be, cfg, bpQ, baQ, "", groupSize, height, width);
        backboneK = new ResNet(be, cfg, bpK, baK, "", groupSize, height, width);
        Shape cg = backboneQ.c5().shape(); // (N/G, S, S, C)
        Shape c5 = Shape.of(batch, cg.dim(1), cg.dim(2), cg.dim(3)); // (N, S, S, C)
        s2 = c5.dim(1) * c5.dim(2);
        c = c5.last();
        neckParamsQ = new Parameters(dtype);
        neckParamsK = new Parameters(dtype);
        neckActsQ = new Activations(dtype);
        Activations neckActsK = new Activations(dtype, true);
        neckQ = new DenseClNeck(be, neckParamsQ, neckActsQ, "", c5, opt.hidden(), opt.dim(), opt.neckBatchNorm());
        neckK = new DenseClNeck(be, neckParamsK, neckActsK, "", c5, opt.hidden(), opt.dim(), opt.neckBatchNorm());
        for (Parameters p : new Parameters[] {bpQ, bpK, neckParamsQ, neckParamsK}) {
            p.allocate(be);
        }
        for (Activations a : new Activations[] {baQ, baK, neckActsQ, neckActsK}) {
            a.allocate(be);
        }
        queryGroups = new ResNet[opt.bnGroups()];
        queryGroups[0] = backboneQ;
        for (int g = 1; g < queryGroups.length; g++) { // declared after allocation: binds to bpQ's tensors
            Activations acts = new Activations(dtype);
            queryGroups[g] = new ResNet(be, cfg, bpQ, acts, "", groupSize, height, width);
            acts.allocate(be);
        }
        emaBackbone = new MomentumEncoder(be, bpQ, bpK);
        emaNeck = new MomentumEncoder(be, neckParamsQ, neckParamsK);
        sgdBackbone = new Sgd(be, bpQ, opt.sgdMomentum(), opt.weightDecay(), true);
        sgdNeck = new Sgd(be, neckParamsQ, opt.sgdMomentum(), opt.weightDecay(), true);
        queue = new FeatureQueue(be, "queue", dtype, opt.queueSize(), opt.dim());
        queue2 = new FeatureQueue(be, "queue2", dtype, opt.queueSize(), opt.dim());

        int d = opt.dim(), rows = batch * s2;
        q = be.allocate(dtype, Shape.of(batch, d));
        qNorms = be.allocate(dtype, Shape.of(batch));
        dq = be.allocate(dtype, Shape.of(batch, d));
        qgrid = be.allocate(dtype, Shape.of(rows, d));
        qgridNorms = be.allocate(dtype, Shape.of(rows));
        dqgrid = be.allocate(dtype, Shape.of(rows, d));
        qb = be.allocate(dtype, Shape.of(rows, c));
        qbNorms = be.allocate(dtype, Shape.of(rows));
        k = be.allocate(dtype, Shape.of(batch, d));
        kNorms = be.allocate(dtype, Shape.of(batch));
        kgrid = be.allocate(dtype, Shape.of(rows, d));
        kgridNorms = be.allocate(dtype, Shape.of(rows));
        kb = be.allocate(dtype, Shape.of(rows, c));
        kbNorms = be.allocate(dtype, Shape.of(rows));
        k2 = be.allocate(dtype, Shape.of(batch, d));
        k2Norms = be.allocate(dtype, Shape.of(batch));
        matches = be.allocate(DType.I32, Shape.of(batch, s2));
        kpos = be.allocate(dtype, Shape.of(batch, s2, d));
        lossGlobal = be.allocate(dtype, Shape.of(1));
        lossDense = be.allocate(dtype, Shape.of(1));
        perm = new int[batch];
        hostQ = new float[batch * d];
        hostK = new float[batch * d];
        hostHidden = new float[batch * opt.hidden()];
        keyIn = opt.bnGroups() > 1 ? be.allocate(dtype, backboneK.inputShape()) : null;
        c5kFull = opt.bnGroups() > 1 ? be.allocate(dtype, c5) : null;
        c5qFull = opt.bnGroups() > 1 ? be.allocate(dtype, c5) : backboneQ.c5().value();
        dc5qFull = opt.bnGroups() > 1 ? be.allocate(dtype, c5) : backboneQ.c5().grad();
    }

    /** Initialises the query encoder from {@code seed}, copies it into the key encoder, fills both queues. */
    public void initialize(long seed) {
        Init init = new Init(be, seed);
        backboneQ.initialize(init);
        neckQ.initialize(new Init(be, seed ^ 0x6e65636bL)); // "neck": its own stream
        emaBackbone.copyQueryToKey();
        emaNeck.copyQueryToKey();
        queue.initialize(seed ^ 0x71756575L);
        queue2.initialize(seed ^ 0x71756532L);
        shuffleSeed = seed ^ 0x73687566L;
    }

    /**
     * One training step on views imQ, imK (N, H, W, Cin) with learning rate lr; returns the loss terms of
     * this step (computed before the update). Does not check for non-finite values: the caller does.
     */
    public Losses step(Tensor imQ, Tensor imK, float lr) {
        return step(imQ, imK, lr, -1);
    }

    /**
     * {@link #step(Tensor, Tensor, float)}, also scanning the loss and every query gradient for NaN/Inf
     * before the update ({@link NonFiniteCheck}: throws naming {@code stepIndex} and the tensor, nothing
     * updated) unless {@code stepIndex} is negative.
     */
    public Losses step(Tensor imQ, Tensor imK, float lr, long stepIndex) {
        permutationStep = stepIndex >= 0 ? stepIndex : stepsTaken;
        stepsTaken++;
        emaBackbone.update(opt.momentum());
        emaNeck.update(opt.momentum());
        Losses l = lossAndGradients(imQ, imK);
        if (stepIndex >= 0) {
            NonFiniteCheck.afterBackward(be, stepIndex, lossGlobal, neckParamsQ);
            NonFiniteCheck.afterBackward(be, stepIndex, lambda > 0 ? lossDense : null, backboneQ.parameters());
        }
        sgdBackbone.step(lr);
        sgdNeck.step(lr);
        queue.enqueue(k);
        queue2.enqueue(k2);
        return l;
    }

    /**
     * Forward of both encoders, the losses, and the query encoder's gradients (zeroed first), with no
     * update of anything but BN running statistics: steps 2-5 of {@link #step}. Public for gradient checks.
     */
    public Losses lossAndGradients(Tensor imQ, Tensor imK) {
        backboneQ.parameters().zeroGrads();
        for (ResNet r : queryGroups) {
            r.activations().zeroGrads();
        }
        if (queryGroups.length > 1) {
            be.zero(dc5qFull);
        }
        neckParamsQ.zeroGrads();
        neckActsQ.zeroGrads();
        be.zero(dq);
        be.zero(dqgrid);

        Tensor c5q = queryForward(imQ);
        neckQ.forward(c5q);
        Tensor c5k = keyForward(imK);
        neckK.forward(c5k);

        int d = opt.dim(), rows = n * s2;
        be.l2NormalizeForward(neckQ.z().value(), NORM_EPS, q, qNorms);
        be.l2NormalizeForward(neckK.z().value(), NORM_EPS, k, kNorms);
        be.l2NormalizeForward(neckK.pooled().value(), NORM_EPS, k2, k2Norms);
        float tau = opt.temperature();
        be.infoNceLoss(q, k, queue.keys(), tau, (1 - lambda) / n, lossGlobal, dq);
        be.l2NormalizeBackward(q, qNorms, NORM_EPS, dq, neckQ.z().grad());
        double dense = 0;
        if (lambda > 0) {
            be.l2NormalizeForward(neckQ.grid().value().view(rows, d), NORM_EPS, qgrid, qgridNorms);
            be.l2NormalizeForward(neckK.grid().value().view(rows, d), NORM_EPS, kgrid, kgridNorms);
            be.l2NormalizeForward(c5q.view(rows, c), NORM_EPS, qb, qbNorms);
            be.l2NormalizeForward(c5k.view(rows, c), NORM_EPS, kb, kbNorms);
            be.denseMatch(qb.view(n, s2, c), kb.view(n, s2, c), matches);
            be.denseGather(kgrid.view(n, s2, d), matches, kpos);
            be.infoNceLoss(qgrid, kpos.view(rows, d), queue2.keys(), tau, lambda / rows, lossDense, dqgrid);
            be.l2NormalizeBackward(qgrid, qgridNorms, NORM_EPS, dqgrid, neckQ.grid().grad().view(rows, d));
            dense = read(lossDense);
        }
        neckQ.backward(c5q, dc5qFull);
        queryBackward();
        double global = read(lossGlobal);
        return new Losses(global + dense, global, dense);
    }

    /** The query C5 (N, S, S, C): one forward, or one per contiguous group of N / G images. */
    private Tensor queryForward(Tensor imQ) {
        if (queryGroups.length == 1) {
            backboneQ.forward(imQ, true);
            return c5qFull;
        }
        Shape in = backboneQ.inputShape(), out = backboneQ.c5().shape();
        for (int g = 0; g < queryGroups.length; g++) {
            queryGroups[g].forward(imQ.slice(g * in.numel(), in), true);
            be.copy(queryGroups[g].c5().value(), c5qFull.slice(g * out.numel(), out));
        }
        return c5qFull;
    }

    /** Hands each group its rows of dC5 and runs its backward; parameter gradients add up. */
    private void queryBackward() {
        Shape out = backboneQ.c5().shape();
        for (int g = queryGroups.length - 1; g >= 0; g--) {
            if (queryGroups.length > 1) {
                be.copy(dc5qFull.slice(g * out.numel(), out), queryGroups[g].c5().grad());
            }
            queryGroups[g].backward(null);
        }
    }

    /** The key backbone's C5 (N, S, S, C) in batch order, with shuffle-BN groups when bnGroups > 1. */
    private Tensor keyForward(Tensor imK) {
        if (opt.bnGroups() == 1) {
            backboneK.forward(imK, true);
            return backboneK.c5().value();
        }
        java.util.SplittableRandom rng = new java.util.SplittableRandom(
                org.densecl.data.Seeds.mix(shuffleSeed, permutationStep));
        for (int i = 0; i < n; i++) { // Fisher-Yates
            int j = rng.nextInt(i + 1);
            perm[i] = perm[j];
            perm[j] = i;
        }
        Shape one = oneImage(keyIn.shape());    // (1, H, W, Cin)
        Shape c5one = oneImage(c5kFull.shape()); // (1, S, S, C)
        long per = one.numel(), c5per = c5one.numel();
        Tensor c5g = backboneK.c5().value(); // (N/G, S, S, C)
        for (int g = 0; g < opt.bnGroups(); g++) {
            for (int j = 0; j < groupSize; j++) {
                be.copy(imK.slice(perm[g * groupSize + j] * per, one), keyIn.slice(j * per, one));
            }
            backboneK.forward(keyIn, true);
            for (int j = 0; j < groupSize; j++) {
                be.copy(c5g.slice(j * c5per, c5one), c5kFull.slice(perm[g * groupSize + j] * c5per, c5one));
            }
        }
        return c5kFull;
    }

    /** Collapse indicators of the last forward's global embedding ({@link EmbeddingStats}); host copies only. */
    public EmbeddingStats embeddingStats() {
        be.download(q, hostQ);
        be.download(k, hostK);
        be.download(neckQ.hidden().value(), hostHidden);
        return EmbeddingStats.of(hostQ, hostK, hostHidden, n, opt.dim(), opt.hidden());
    }

    /** The normalised global queries of the last forward (N, D); tests. */
    Tensor lastQueries() {
        return q;
    }

    /** The key permutation of the last step (batch row of each shuffled position); tests. */
    int[] keyPermutation() {
        return perm.clone();
    }

    private static Shape oneImage(Shape nhwc) {
        return Shape.of(1, nhwc.dim(1), nhwc.dim(2), nhwc.dim(3));
    }

    private double read(Tensor scalar) {
        if (be.isHost()) {
            return scalar.get(0); // exact in F64 (gradient checks)
        }
        be.download(scalar, host);
        return host[0];
    }

    /** The dense loss weight from now on: 0 for a MoCo-v2 warm-up (spec 2.4), then opt.lambda(). */
    public void setDenseWeight(float lambda) {
        if (!(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("DenseClModel: dense weight " + lambda + " must be in [0, 1]");
        }
        this.lambda = lambda;
    }

    public float denseWeight() {
        return lambda;
    }

    public ResNet backboneQuery() {
        return backboneQ;
    }

    DenseClNeck neckQ() {
        return neckQ;
    }

    public ResNet backboneKey() {
        return backboneK;
    }

    public Parameters neckQueryParameters() {
        return neckParamsQ;
    }

    public Parameters neckKeyParameters() {
        return neckParamsK;
    }

    public Sgd sgdBackbone() {
        return sgdBackbone;
    }

    public Sgd sgdNeck() {
        return sgdNeck;
    }

    public FeatureQueue queue() {
        return queue;
    }

    public FeatureQueue queue2() {
        return queue2;
    }

    public DenseClOptions options() {
        return opt;
    }

    /** C5 locations per image (S2). */
    public int locations() {
        return s2;
    }

    /** The normalised global keys of the last step (N, D): what was enqueued into {@link #queue()}. */
    public Tensor lastKeys() {
        return k;
    }

    /** The normalised pooled dense keys of the last step (N, D): what was enqueued into {@link #queue2()}. */
    public Tensor lastDenseKeys() {
        return k2;
    }
}
