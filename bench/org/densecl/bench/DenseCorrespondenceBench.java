package org.densecl.bench;

import java.util.concurrent.TimeUnit;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.tensor.DType;
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
 * DenseCL's dense correspondence on the cpu backend (or -p backend=cuda): denseMatch (per-image Sim = qb kb^T and its row
 * argmax) plus denseGather of the 128-d key grid, for batch N of S x S grids of C = 2048 backbone
 * channels (7 x 7 at 224 input, 14 x 14 at 448). {@code ./densecl bench DenseCorrespondenceBench}.
 *
 * <p>FLOPs per call: 2 * N * S2 * S2 * C (the similarity GEMMs; the argmax and the gather are O(N * S2^2)
 * and O(N * S2 * 128) and not counted). The {@code :flop} secondary result is the achieved FLOP/s.
 * {@code gemmSameShape} runs only the N plain backend GEMMs of the same shapes, (S2, C) x (C, S2), so the
 * two rates side by side show what the argmax and gather cost on top of the backend's GEMM.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class DenseCorrespondenceBench {
    @Param({"8", "32"})
    public int n;

    /** Grid side S: S2 = S * S locations. */
    @Param({"7", "14"})
    public int grid;

    /** "cpu", or "cuda" ("cuda:fp32", ...; -p backend=cuda) for the kernels on the GPU. */
    @Param({"cpu"})
    public String backend;

    /** Worker threads for the cpu backend; 0 means all cores. */
    @Param({"0"})
    public int threads;

    /** The cpu backend's GEMM provider: "vector" or "openblas". */
    @Param({"vector"})
    public String gemm;

    private static final int C = 2048, D = 128;

    private Backend b;
    private int s2;
    private long flopsPerCall;
    private Tensor qb, kb;      // (N, S2, C)
    private Tensor kgrid, out;  // (N, S2, D)
    private Tensor indices;     // I32 (N, S2)
    private Tensor sim;         // (N, S2, S2), for the plain-GEMM baseline
    private Tensor[] qbImage, kbImage, simImage; // per-image views (S2, C), (S2, C), (S2, S2)

    @Setup
    public void setUp() {
        b = Backends.open(backend, threads, gemm);
        s2 = grid * grid;
        flopsPerCall = 2L * n * s2 * s2 * C;
        qb = UnitRows.of(b, Shape.of(n, s2, C), 1);
        kb = UnitRows.of(b, Shape.of(n, s2, C), 2);
        kgrid = UnitRows.of(b, Shape.of(n, s2, D), 3);
        out = b.allocate(Shape.of(n, s2, D));
        indices = b.allocate(DType.I32, Shape.of(n, s2));
        sim = b.allocate(Shape.of(n, s2, s2));
        qbImage = new Tensor[n];
        kbImage = new Tensor[n];
        simImage = new Tensor[n];
        for (int i = 0; i < n; i++) {
            qbImage[i] = qb.slice((long) i * s2 * C, Shape.of(s2, C));
            kbImage[i] = kb.slice((long) i * s2 * C, Shape.of(s2, C));
            simImage[i] = sim.slice((long) i * s2 * s2, Shape.of(s2, s2));
        }
        System.out.printf("%nDenseCorrespondence N=%d S2=%d C=%d: %.3f GFLOP per call (2*N*S2*S2*C)%n", n, s2, C,
                flopsPerCall / 1e9);
    }

    @Benchmark
    public Tensor matchAndGather(FlopCounter counter) {
        kernel();
        counter.flop += flopsPerCall;
        return out;
    }

    @Benchmark
    public Tensor gemmSameShape(FlopCounter counter) {
        gemms();
        counter.flop += flopsPerCall;
        return sim;
    }

    /**
     * The kernel and the same-shape GEMMs one after the other in each call (in alternating order), each
     * timed, as {@link ContrastiveLossBench#interleaved}: the two benchmarks above run a minute apart, and
     * a shared host's speed drifts over tens of seconds. gemmNs / kernelNs is the kernel's FLOP rate
     * as a fraction of the GEMM's. {@code ./densecl bench DenseCorrespondenceBench.interleaved}.
     */
    @Benchmark
    public Tensor interleaved(ContrastiveLossBench.PairTimer timer) {
        timer.pair(this::kernel, this::gemms);
        return out;
    }

    private void kernel() {
        b.denseMatch(qb, kb, indices);
        b.denseGather(kgrid, indices, out);
        b.synchronize(); // a device backend returns once the work is queued
    }

    private void gemms() {
        for (int i = 0; i < n; i++) {
            b.gemm(false, true, s2, s2, C, 1f, qbImage[i], kbImage[i], 0f, simImage[i]);
        }
        b.synchronize();
    }

    @TearDown
    public void tearDown() {
        b.close();
    }

}
