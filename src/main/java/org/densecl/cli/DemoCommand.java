package org.densecl.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.demo.ShapesDataset;
import org.densecl.demo.TinyCnn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The engine demo: trains a small CNN (conv, BN, ReLU, max pool, global pool, linear, cross-entropy,
 * SGD, all hand-written backend ops) to tell disks from rings, and reports held-out accuracy. It is the
 * main job until the ResNet and DenseCL work lands, and a quick end-to-end check of a backend.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Train a small CNN to tell disks from rings and report held-out accuracy (engine check).",
                "An end-to-end check of every core op on the chosen backend."})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--backend", defaultValue = "cpu", description = "ref, cpu or cuda (default: ${DEFAULT-VALUE})")
    String backend;
    @Option(names = "--gemm", defaultValue = "vector", description = "cpu GEMM provider: vector or openblas (default: ${DEFAULT-VALUE})")
    String gemm;
    @Option(names = "--threads", defaultValue = "0", description = "cpu threads, 0 = all cores (default: ${DEFAULT-VALUE})")
    int threads;
    @Option(names = "--steps", defaultValue = "300", description = "training steps (default: ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--batch", defaultValue = "32", description = "images per step (default: ${DEFAULT-VALUE})")
    int batch;
    @Option(names = "--size", defaultValue = "32", description = "image side in pixels (default: ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--lr", defaultValue = "0.05", description = "SGD learning rate (default: ${DEFAULT-VALUE})")
    float lr;
    @Option(names = "--seed", defaultValue = "1", description = "seed for data and weights (default: ${DEFAULT-VALUE})")
    long seed;

    private static final int EVAL_BATCHES = 8;
    private static final long HELD_OUT = 1L << 40; // held-out images start at this index

    @Override
    public Integer call() {
        if (steps < 1 || batch < 2 || size < 8) {
            throw new IllegalArgumentException("demo: need --steps >= 1, --batch >= 2 and --size >= 8");
        }
        ShapesDataset data = new ShapesDataset(size, seed);
        try (Backend be = Backends.open(backend, threads, gemm)) {
            System.out.printf(Locale.ROOT, "demo: backend %s%s, batch %d, %dx%d images, %d steps%n", be.name(),
                    backend.equals("cpu") ? " (gemm " + gemm + ")" : "", batch, size, size, steps);
            TinyCnn net = new TinyCnn(be, batch, size);
            net.initialize(seed);
            float[] images = new float[batch * size * size];
            int[] labels = new int[batch];
            int every = Math.max(1, steps / 15);
            long start = System.nanoTime();
            double smoothed = Double.NaN;
            for (int step = 1; step <= steps; step++) {
                fill(data, (long) (step - 1) * batch, images, labels);
                net.setBatch(images, labels);
                net.trainStep(lr * cosine(step, steps), 0.9f, 1e-4f);
                if (step % every == 0 || step == steps) {
                    float loss = net.loss();
                    if (!Float.isFinite(loss)) {
                        throw new IllegalStateException("demo: loss became " + loss + " at step " + step
                                + "; lower --lr (now " + lr + ")");
                    }
                    smoothed = Double.isNaN(smoothed) ? loss : 0.7 * smoothed + 0.3 * loss;
                    double secs = (System.nanoTime() - start) / 1e9;
                    System.out.printf(Locale.ROOT, "step %5d/%d  loss %.4f  %6.1f img/s  eta %s%n", step, steps,
                            loss, step * (double) batch / secs, eta(secs / step * (steps - step)));
                }
            }
            double acc = evaluate(net, data, images, labels);
            System.out.printf(Locale.ROOT, "held-out accuracy %.1f%% on %d images (chance 50%%)%n", 100 * acc,
                    EVAL_BATCHES * batch);
            return 0;
        }
    }

    private double evaluate(TinyCnn net, ShapesDataset data, float[] images, int[] labels) {
        int correct = 0;
        for (int b = 0; b < EVAL_BATCHES; b++) {
            fill(data, HELD_OUT + (long) b * batch, images, labels);
            net.setBatch(images, labels);
            net.forward(false);
            float[] probs = net.probabilities();
            for (int i = 0; i < batch; i++) {
                int predicted = probs[2 * i + 1] > probs[2 * i] ? 1 : 0;
                correct += predicted == labels[i] ? 1 : 0;
            }
        }
        return correct / (double) (EVAL_BATCHES * batch);
    }

    private void fill(ShapesDataset data, long first, float[] images, int[] labels) {
        int pixels = size * size;
        for (int i = 0; i < batch; i++) {
            data.image(first + i, images, i * pixels);
            labels[i] = data.label(first + i);
        }
    }

    /** Cosine decay from 1 to 0 over the run. */
    private static float cosine(int step, int steps) {
        return (float) (0.5 * (1 + Math.cos(Math.PI * (step - 1) / steps)));
    }

    private static String eta(double secs) {
        long s = Math.round(secs);
        return s >= 60 ? (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s" : s + "s";
    }
}
