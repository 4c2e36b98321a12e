package org.densecl.train;

import java.nio.file.Path;
import org.densecl.backend.Backend;
import org.densecl.data.Seeds;
import org.densecl.model.ResNet;
import org.densecl.nn.LrSchedule;
import org.densecl.nn.Sgd;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * The smallest complete training loop: a ResNet with a classifier, softmax cross-entropy, SGD under a
 * learning-rate schedule, the divergence check after every backward, and exact save/resume through
 * {@link Checkpoint}. It is the pattern the DenseCL and FCN trainers follow:
 * <ol>
 *   <li>every random choice of step t comes from {@code Seeds.mix(seed, t)} (handed to the
 *       {@link BatchSource}), so (seed, steps done) is the whole random state and a resumed run draws
 *       what the uninterrupted one would have drawn;</li>
 *   <li>all buffers are made in the constructor; {@link #step} allocates nothing on the backend.</li>
 * </ol>
 */
public final class ClassifierTrainer {

    /** Fills one batch: images (N, H, W, C) and I32 labels (N), deterministically from {@code stepSeed}. */
    @FunctionalInterface
    public interface BatchSource {
        void fill(long stepSeed, Tensor images, Tensor labels);
    }

    private final Backend be;
    private final ResNet net;
    private final Sgd sgd;
    private final LrSchedule schedule;
    private final BatchSource data;
    private final Tensor images;  // (N, H, W, C)
    private final Tensor labels;  // (N) I32
    private final Tensor probs;   // (N, classes)
    private final Tensor loss;    // (1)
    private final float[] lossHost = new float[1];
    private long seed;
    private long step;            // steps completed

    public ClassifierTrainer(Backend be, ResNet net, Sgd sgd, LrSchedule schedule, long seed, BatchSource data) {
        this.be = be;
        this.net = net;
        this.sgd = sgd;
        this.schedule = schedule;
        this.seed = seed;
        this.data = data;
        Shape in = net.inputShape();
        int n = in.dim(0), classes = net.config().numClasses();
        if (classes <= 0) {
            throw new IllegalArgumentException("ClassifierTrainer: the ResNet has no classifier (numClasses 0)");
        }
        DType dt = net.parameters().dtype();
        images = be.allocate(dt, in);
        labels = be.allocate(DType.I32, Shape.of(n));
        probs = be.allocate(dt, Shape.of(n, classes));
        loss = be.allocate(dt, Shape.of(1));
    }

    /**
     * One training step on the batch of step {@link #stepsDone()}; returns its loss. Throws
     * IllegalStateException naming the step and tensor if the loss or a gradient is not finite (the
     * parameters are then left as they were before the update).
     */
    public float step() {
        data.fill(Seeds.mix(seed, step), images, labels);
        net.parameters().zeroGrads();
        net.activations().zeroGrads();
        net.forward(images, true);
        be.softmaxCrossEntropyForward(net.logits().value(), labels, -1, false, probs, loss);
        be.softmaxCrossEntropyBackward(probs, labels, -1, false, 1f, net.logits().grad());
        net.backward(null);
        NonFiniteCheck.afterBackward(be, step, loss, net.parameters());
        sgd.step((float) schedule.lr(step));
        step++;
        be.download(loss, lossHost);
        return lossHost[0];
    }

    /** Steps completed (the next step's index). */
    public long stepsDone() {
        return step;
    }

    public long seed() {
        return seed;
    }

    /** Writes a checkpoint of the model, the optimiser and (seed, step), with {@code configJson} as the config. */
    public void save(Path file, String configJson) {
        Checkpoint.save(file, net.parameters(), sgd, be, new Checkpoint.State(step, seed, configJson));
    }

    /** Restores a {@link #save}d checkpoint; the run continues with the file's seed and step. */
    public Checkpoint.State resume(Path file) {
        Checkpoint.State s = Checkpoint.load(file, net.parameters(), sgd, be);
        seed = s.seed();
        step = s.step();
        return s;
    }
}
