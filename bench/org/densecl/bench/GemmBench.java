package org.densecl.bench;

import java.util.concurrent.TimeUnit;
import org.densecl.backend.cpu.CpuGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.benchmark.BenchData;
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
 * C = A * B with the cpu backend's GEMM providers, on square sizes and on the GEMMs of ResNet-50's 1x1
 * convolutions at batch 8 and 224x224 input (M = 8 * H * W pixels, N = output channels, K = input
 * channels). Run: {@code ./densecl bench GemmBench} (add {@code -p provider=vector -p shape=1024} to
 * narrow it). The {@code gflop} line of the output is GFLOP/s directly (2*M*N*K per call, counted by an
 * auxiliary counter); the primary score is calls per second. For one table with the ratio to OpenBLAS,
 * use {@code ./densecl bench gemm-summary}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GemmBench {
    /** "S" for S x S x S, or "MxNxK". The r50 shapes: stage 1..4 bottleneck 1x1 convs (reduce, expand). */
    @Param({"512", "1024", "2048",
            "25088x64x256", "25088x256x64", "6272x128x512", "6272x512x128",
            "1568x256x1024", "1568x1024x256", "392x512x2048", "392x2048x512"})
    public String shape;

    @Param({"vector", "openblas"})
    public String provider;

    @Param({"2"})
    public int threads;

    private BenchData data;
    private Parallel parallel;
    private CpuGemm gemm;
    private Tensor a, b, c;
    int m, n, k;

    @Setup(Level.Trial)
    public void setUp() {
        int[] mnk = parse(shape);
        m = mnk[0];
        n = mnk[1];
        k = mnk[2];
        data = new BenchData();
        parallel = new Parallel(threads);
        gemm = new CpuGemm(parallel, provider);
        a = data.random(Shape.of(m, k), 1);
        b = data.random(Shape.of(k, n), 2);
        c = data.zeros(Shape.of(m, n));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        parallel.close();
        data.close();
    }

    /** GFLOP performed, reported by JMH as a rate: GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;
    }

    @Benchmark
    public void gemm(Flops flops) {
        gemm.gemm(false, false, m, n, k, 1f, a, b, 0f, c);
        flops.gflop += 2.0 * m * n * k * 1e-9;
    }

    /** "1024" means 1024x1024x1024; otherwise "MxNxK". */
    static int[] parse(String shape) {
        String[] parts = shape.split("x");
        if (parts.length == 1) {
            int s = Integer.parseInt(parts[0]);
            return new int[] {s, s, s};
        }
        if (parts.length != 3) {
            throw new IllegalArgumentException("GEMM shape '" + shape + "': expected S or MxNxK");
        }
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2])};
    }
}
