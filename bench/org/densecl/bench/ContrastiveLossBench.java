package org.densecl.bench;

import java.util.concurrent.TimeUnit;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * The InfoNCE loss forward + backward (Backend#infoNceLoss with a gradient) on the cpu backend (or with
 * -p backend=cuda on the GPU), for DenseCL's two heads at batch N = 32: global rows R = N and dense rows
 * R = N * 49 (7 x 7 grid), against a queue of K keys of D = 128. {@code ./densecl bench ContrastiveLossBench}.
 *
 * <p>FLOPs per call: 4 * R * K * D (the logits GEMM, R x K x D, and the gradient GEMM, R x D x K; the
 * softmax's O(R * K) and the positives' O(R * D) are not counted). The {@code :flop} secondary result is
 * the achieved FLOP/s. {@code gemmSameShape} runs only those two GEMMs through the backend, in the same
 * 256-row blocks the cpu kernel uses (CpuContrastive.BLOCK_ROWS), so the two rates side by side show what
 * the row-blocked softmax costs on top of the GEMMs. {@code interleaved} times both in the same calls,
 * for a ratio that other load on the machine does not skew.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class ContrastiveLossBench {
    /** "global" (R = N) or "dense" (R = N * S2). */
    @Param({"global", "dense"})
    public String rows;

    @Param({"4096", "65536"})
    public int k;

    /** "cpu", or "cuda" ("cuda:fp32", ...; -p backend=cuda) for the kernels on the GPU. */
    @Param({"cpu"})
    public String backend;

    /** Worker threads for the cpu backend; 0 means all cores. */
    @Param({"0"})
    public int threads;

    /** The cpu backend's GEMM provider: "vector" or "openblas". */
    @Param({"vector"})
    public String gemm;

    private static final int N = 32, S2 = 49, D = 128, BLOCK = 256;
    private static final float TAU = 0.2f;

    private Backend b;
    private int r;
    private long flopsPerCall;
    private Tensor anchors, positives, dAnchors; // (R, D)
    private Tensor queue;                         // (K, D) rows of keys
    private Tensor loss;                          // (1)
    private Tensor logits;                        // (BLOCK, K), the baseline's block of logits

    @Setup
    public void setUp() {
        b = Backends.open(backend, threads, gemm);
        r = rows.equals("global") ? N : N * S2;
        flopsPerCall = 4L * r * k * D;
        anchors = UnitRows.of(b, Shape.of(r, D), 1);
        positives = UnitRows.of(b, Shape.of(r, D), 2);
        queue = UnitRows.of(b, Shape.of(k, D), 3);
        dAnchors = b.allocate(Shape.of(r, D));
        loss = b.allocate(Shape.of(1));
        logits = b.allocate(Shape.of(Math.min(r, BLOCK), k));
        System.out.printf("%nInfoNCE %s R=%d K=%d D=%d: %.3f GFLOP per call (4*R*K*D)%n", rows, r, k, D,
                flopsPerCall / 1e9);
    }

    @Benchmark
    public Tensor forwardBackward(FlopCounter counter) {
        kernel();
        counter.flop += flopsPerCall;
        return dAnchors;
    }

    @Benchmark
    public Tensor gemmSameShape(FlopCounter counter) {
        gemms();
        counter.flop += flopsPerCall;
        return dAnchors;
    }

    /**
     * The kernel and the GEMM pair one after the other in each call (in alternating order), each timed.
     * The two benchmarks above run minutes apart, and on a machine whose cores are shared with other work
     * the load changes in between; here both see the same load. Secondary results: kernelNs and gemmNs,
     * the iteration's total time in each;
     * gemmNs / kernelNs is the kernel's FLOP rate as a fraction of the GEMM's at the same shapes.
     */
    @Benchmark
    public Tensor interleaved(PairTimer timer) {
        timer.pair(this::kernel, this::gemms);
        return dAnchors;
    }

    /** Per-iteration times of {@link #interleaved}'s two halves. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class PairTimer {
        /** Nanoseconds in the InfoNCE kernel this iteration. */
        public long kernelNs;
        /** Nanoseconds in the two GEMMs of the same shapes this iteration. */
        public long gemmNs;
        int calls;

        @Setup(Level.Iteration)
        public void reset() {
            kernelNs = 0;
            gemmNs = 0;
        }

        /** Runs and times {@code kernel} and {@code gemms}, one after the other, the first of them alternating. */
        void pair(Runnable kernel, Runnable gemms) {
            boolean kernelFirst = (calls++ & 1) == 0;
            long t0 = System.nanoTime();
            (kernelFirst ? kernel : gemms).run();
            long t1 = System.nanoTime();
            (kernelFirst ? gemms : kernel).run();
            long t2 = System.nanoTime();
            kernelNs += kernelFirst ? t1 - t0 : t2 - t1;
            gemmNs += kernelFirst ? t2 - t1 : t1 - t0;
        }
    }

    private void kernel() {
        // The gradient accumulates; its growing values do not change the work.
        b.infoNceLoss(anchors, positives, queue, TAU, 1f / r, loss, dAnchors);
        b.synchronize(); // a device backend returns once the work is queued
    }

    /** The kernel's two GEMMs, in its 256-row blocks. */
    private void gemms() {
        for (int r0 = 0; r0 < r; r0 += BLOCK) {
            int m = Math.min(BLOCK, r - r0);
            Tensor u = anchors.slice((long) r0 * D, Shape.of(m, D)), du = dAnchors.slice((long) r0 * D, Shape.of(m, D));
            Tensor z = logits.slice(0, Shape.of(m, k));
            b.gemm(false, true, m, k, D, 1f / TAU, u, queue, 0f, z);
            b.gemm(false, false, m, D, k, 1f, z, queue, 1f, du);
        }
        b.synchronize();
    }

    @TearDown
    public void tearDown() {
        b.close();
    }

}
