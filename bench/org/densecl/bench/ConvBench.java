package org.densecl.bench;

import java.util.concurrent.TimeUnit;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.CpuConv;
import org.densecl.backend.cpu.CpuGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.benchmark.BenchData;
import org.densecl.benchmark.ResNet50Layers;
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
 * ResNet-50 convolutions at batch 8 and 224x224 input through the cpu backend's convolution, per GEMM
 * provider and pass (forward, backward data, backward filter): the stem, one 3x3 and one 1x1 per stage.
 * Run: {@code ./densecl bench ConvBench -p layer=s2_3x3 -p pass=forward}. The {@code gflop} line is
 * GFLOP/s (2*N*P*Q*K*R*S*C per call, the same count for every pass).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ConvBench {
    @Param({"stem_7x7", "s1_3x3", "s2_3x3", "s3_3x3", "s4_3x3", "s1_1x1", "s2_1x1", "s3_1x1", "s4_1x1"})
    public String layer;

    @Param({"forward", "backwardData", "backwardFilter"})
    public String pass;

    @Param({"vector", "openblas"})
    public String provider;

    @Param({"2"})
    public int threads;

    @Param({"8"})
    public int batch;

    private BenchData data;
    private Parallel parallel;
    private CpuConv conv;
    private ConvGeometry g;
    private Tensor x, w, y, dx, dw;

    @Setup(Level.Trial)
    public void setUp() {
        g = ResNet50Layers.layer(layer, batch);
        data = new BenchData();
        parallel = new Parallel(threads);
        conv = new CpuConv(parallel, new CpuGemm(parallel, provider));
        x = data.random(g.xShape(), 1);
        w = data.random(g.wShape(), 2);
        y = data.random(g.yShape(), 3);
        dx = data.zeros(g.xShape());
        dw = data.zeros(g.wShape());
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
    public void conv(Flops flops) {
        switch (pass) {
            case "forward" -> conv.forward(g, x, w, null, y);
            case "backwardData" -> conv.backwardData(g, y, w, dx, true);
            case "backwardFilter" -> conv.backwardFilter(g, x, y, dw, null);
            default -> throw new IllegalArgumentException("pass '" + pass + "'");
        }
        flops.gflop += g.flops() * 1e-9;
    }
}
