package org.densecl.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Batch norm train forward + backward with fused ReLU (what every ResNet BN layer costs per step) at
 * ResNet-50 layer1's widest size for batch 8: x (8, 56, 56, 256), seen as (M, C) = (25088, 256).
 * Both backends run in one invocation, so their times come from the same machine and JVM flags:
 * {@code ./densecl bench BatchNormBench} (add {@code -p threads=4} to pin the cpu backend's threads).
 *
 * <p>Memory traffic per call: forward reads x twice and writes y; backward reads x, dy, y twice and
 * reads/writes dx once: about 11 passes over 25.7 MB, so ~280 MB. Time / 280 MB gives the achieved
 * bandwidth to compare with the machine's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BatchNormBench {
    @Param({"cpu", "ref"})
    public String backend;

    /** Worker threads for the cpu backend; 0 means all cores. */
    @Param({"0"})
    public int threads;

    private static final int N = 8, H = 56, W = 56, C = 256;

    private Backend b;
    private Tensor x, y, dy, dx; // (N, H, W, C)
    private Tensor gamma, beta, runningMean, runningVar, saveMean, saveInvStd, dgamma, dbeta; // (C)

    @Setup
    public void setUp() {
        b = Backends.open(backend, threads, "vector");
        Shape act = Shape.of(N, H, W, C), ch = Shape.of(C);
        x = random(act, 1, 1);
        dy = random(act, 2, 1);
        y = b.allocate(act);
        dx = b.allocate(act);
        gamma = random(ch, 3, 0.1);
        b.axpy(1f, onesLike(ch), gamma); // gamma around 1
        beta = random(ch, 4, 0.1);
        runningMean = b.allocate(ch);
        runningVar = onesLike(ch);
        saveMean = b.allocate(ch);
        saveInvStd = b.allocate(ch);
        dgamma = b.allocate(ch);
        dbeta = b.allocate(ch);
    }

    @Benchmark
    public Tensor trainForwardBackward() {
        b.batchNormTrainForward(x, gamma, beta, 0.1f, 1e-5f, runningMean, runningVar, saveMean, saveInvStd, y, true);
        b.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, y, true, dx, dgamma, dbeta);
        return dx;
    }

    @TearDown
    public void tearDown() {
        b.close();
    }

    private Tensor random(Shape shape, long seed, double std) {
        float[] v = new float[(int) shape.numel()];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (std * (2 * r.nextDouble() - 1) * Math.sqrt(3)); // uniform with this std
        }
        Tensor t = b.allocate(shape);
        b.upload(v, t);
        return t;
    }

    private Tensor onesLike(Shape shape) {
        Tensor t = b.allocate(shape);
        b.fill(t, 1f);
        return t;
    }
}
