package org.densecl.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.gemm.MicroKernel;
import org.densecl.backend.cpu.simd.Lanes;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the vector width buys the cpu backend's arithmetic on this machine: one core's FMA peak and the
 * GEMM micro-kernel ({@link MicroKernel#multiply}, 6 rows x two vectors, A in L1, a 192-column B slice in
 * L2 as in the driver's macro-kernel), with the kernels at 8 floats per vector ({@code ...8}) and at 16
 * ({@code ...16}). Each width runs in its own JVMs ({@code -Ddensecl.vectorBits}), as the backend runs one
 * species per JVM. On an AVX2 machine the 16-float forks run the Vector API's Java fallback: only the
 * 8-float rows mean anything there. Run: {@code ./densecl bench VectorWidthBench}; the {@code gflop} lines
 * are GFLOP/s of one core.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class VectorWidthBench {
    private static final int KC = 256;            // k steps per kernel call, the driver's KC
    private static final int SLICE_COLUMNS = 192; // B columns per batch of calls: the driver's NL2
    private static final VectorSpecies<Float> S = Lanes.FLOATS;

    private float[] a;    // (MR, KC) rows layout: row r's k values at r * KC
    private float[] b;    // (SLICE_COLUMNS / NR panels, KC, NR)
    private float[] tile; // (MR, NR) accumulators written out

    @Setup
    public void setUp() {
        java.util.Random r = new java.util.Random(7);
        a = new float[MicroKernel.MR * KC + 64];
        b = new float[SLICE_COLUMNS * KC + 64];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextFloat();
        }
        tile = new float[MicroKernel.MR * MicroKernel.NR + 64];
    }

    /** GFLOP performed, reported by JMH as a rate: GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;
    }

    @Benchmark
    @Fork(value = 2, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"},
            jvmArgsAppend = "-Ddensecl.vectorBits=256")
    public float fmaPeak8(Flops flops) {
        return fmaPeak(flops);
    }

    @Benchmark
    @Fork(value = 2, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"},
            jvmArgsAppend = "-Ddensecl.vectorBits=512")
    public float fmaPeak16(Flops flops) {
        return fmaPeak(flops);
    }

    @Benchmark
    @Fork(value = 2, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"},
            jvmArgsAppend = "-Ddensecl.vectorBits=256")
    public float microKernel8(Flops flops) {
        return microKernel(flops);
    }

    @Benchmark
    @Fork(value = 2, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"},
            jvmArgsAppend = "-Ddensecl.vectorBits=512")
    public float microKernel16(Flops flops) {
        return microKernel(flops);
    }

    // 12 independent FMA chains, nothing loaded: the core's arithmetic peak at this JVM's width.
    private static float fmaPeak(Flops flops) {
        int n = 1 << 16;
        FloatVector x = FloatVector.broadcast(S, 1.0001f), y = FloatVector.broadcast(S, 0.9999f);
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < n; i++) {
            c0 = x.fma(y, c0);
            c1 = x.fma(y, c1);
            c2 = x.fma(y, c2);
            c3 = x.fma(y, c3);
            c4 = x.fma(y, c4);
            c5 = x.fma(y, c5);
            c6 = x.fma(y, c6);
            c7 = x.fma(y, c7);
            c8 = x.fma(y, c8);
            c9 = x.fma(y, c9);
            c10 = x.fma(y, c10);
            c11 = x.fma(y, c11);
        }
        flops.gflop += 12.0 * n * 2 * S.length() * 1e-9;
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).lane(0);
    }

    // The backend's micro-kernel over one B slice.
    private float microKernel(Flops flops) {
        for (int j = 0; j + MicroKernel.NR <= SLICE_COLUMNS; j += MicroKernel.NR) {
            MicroKernel.multiply(KC, a, 0, b, j * KC, tile);
        }
        flops.gflop += 2.0 * MicroKernel.MR * SLICE_COLUMNS * KC * 1e-9;
        return tile[0];
    }
}
