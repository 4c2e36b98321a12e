package org.densecl.benchmark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.blas.OpenBlas;
import org.densecl.backend.cpu.CpuConv;
import org.densecl.backend.cpu.CpuGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.experiment.MachineInfo;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * {@code ./densecl bench gemm-summary [--sizes 512,1024,2048] [--threads 2] [--quick]}: one table of
 * square-GEMM GFLOP/s per size and provider, with the ratio to OpenBLAS measured in the same run, then
 * the ratio of convolution-forward GFLOP/s to the GEMM of the same shape (M = N*P*Q, N = K, K = R*S*C)
 * for two ResNet-50 3x3 layers. JMH's GemmBench/ConvBench (bench/) give the per-shape detail; this is the quick
 * comparison.
 *
 * <p>Method: the providers are warmed up, then timed in alternating rounds (vector, openblas, vector, ...),
 * so that load from other processes hits both alike, with an idle pause after each sample. A sample
 * repeats the call until it has run 50 ms;
 * the table shows the median sample and the best one. Ratios use medians. The default run takes about a
 * minute and a half; --quick about a quarter of that.
 */
public final class GemmSummary {
    /** Idle time after each sample, longer than OpenBLAS's spin after a call (see settle()). */
    private static final long SETTLE_MS = 150;

    private GemmSummary() {}

    /**
     * Times the square GEMMs of the given sizes on {@code threads} threads; {@code quick} shortens warm-up and
     * measurement (about a quarter of the default minute and a half). ./densecl bench gemm-summary parses the
     * arguments (GemmSummaryCommand).
     */
    public static int run(int[] sizes, int threads, boolean quick) {
        if (sizes.length == 0 || Arrays.stream(sizes).anyMatch(s -> s < 1) || threads < 1) {
            throw new IllegalArgumentException("gemm-summary: sizes must be >= 1 and threads >= 1, got "
                    + Arrays.toString(sizes) + " and " + threads);
        }
        double warmSeconds = quick ? 0.5 : 2, measureSeconds = quick ? 1.5 : 6;
        List<String> providers = new ArrayList<>(List.of("vector"));
        String blasMissing = OpenBlas.unavailableReason();
        if (blasMissing == null) {
            providers.add("openblas");
        }
        System.out.printf(Locale.ROOT, "GEMM C = A*B, f32 row-major, threads=%d, %d CPUs, %s %s%n", threads,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
                System.getProperty("java.version"));
        System.out.println("  machine: " + MachineInfo.cpuLine()); // every speed figure names its CPU and ISA
        System.out.println("load average at start: " + loadAverage());
        if (blasMissing != null) {
            System.out.println("openblas: not measured (" + blasMissing + ")");
        }
        try (Parallel parallel = new Parallel(threads); BenchData data = new BenchData()) {
            Map<String, CpuGemm> gemms = new LinkedHashMap<>();
            for (String p : providers) {
                gemms.put(p, new CpuGemm(parallel, p));
            }
            System.out.printf(Locale.ROOT, "%-6s %-9s %14s %10s %12s%n", "size", "provider", "GFLOP/s(med)", "best",
                    "vs openblas");
            for (int s : sizes) {
                Tensor a = data.random(Shape.of(s, s), 1), b = data.random(Shape.of(s, s), 2);
                Tensor c = data.zeros(Shape.of(s, s));
                Map<String, Runnable> calls = new LinkedHashMap<>();
                gemms.forEach((p, g) -> calls.put(p, () -> g.gemm(false, false, s, s, s, 1f, a, b, 0f, c)));
                print(String.valueOf(s), measure(calls, warmSeconds, measureSeconds), 2.0 * s * s * s);
            }
            System.out.println();
            System.out.println("conv forward vs GEMM of the same shape (M=N*P*Q, N=K, K=R*S*C), ResNet-50 batch 8:");
            System.out.printf(Locale.ROOT, "%-8s %-9s %10s %10s %10s%n", "layer", "provider", "conv", "gemm",
                    "conv/gemm");
            String[] layers = quick ? new String[] {"s2_3x3"} : new String[] {"s1_3x3", "s2_3x3"};
            for (String layer : layers) {
                ConvGeometry g = ResNet50Layers.layer(layer, 8);
                Tensor x = data.random(g.xShape(), 3), w = data.random(g.wShape(), 4), y = data.zeros(g.yShape());
                int m = g.n() * g.p() * g.q(), n = g.k(), k = g.r() * g.s() * g.c();
                Tensor ga = data.random(Shape.of(m, k), 5), gc = data.zeros(Shape.of(m, n));
                for (String p : providers) {
                    CpuGemm gemm = gemms.get(p);
                    CpuConv conv = new CpuConv(parallel, gemm);
                    Map<String, Runnable> calls = new LinkedHashMap<>();
                    calls.put("conv", () -> conv.forward(g, x, w, null, y));
                    // The forward's own GEMM: X_col (M, RSC) * W^T, W stored (K, RSC).
                    calls.put("gemm", () -> gemm.gemm(false, true, m, n, k, 1f, ga, w.view(n, k), 0f, gc));
                    Map<String, double[]> t = measure(calls, warmSeconds / 2, measureSeconds / 2);
                    double convRate = g.flops() / median(t.get("conv")) * 1e-9;
                    double gemmRate = g.flops() / median(t.get("gemm")) * 1e-9;
                    System.out.printf(Locale.ROOT, "%-8s %-9s %10.1f %10.1f %10.2f%n", layer, p, convRate, gemmRate,
                            convRate / gemmRate);
                }
            }
        }
        System.out.println("load average at end: " + loadAverage());
        return 0;
    }

    // The machine is shared: other processes' load moves every number here, so the table says what it was.
    private static String loadAverage() {
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f (1 min) on %d CPUs", load,
                Runtime.getRuntime().availableProcessors());
    }

    // Prints one line per provider: median and best GFLOP/s, and the median ratio to openblas.
    private static void print(String label, Map<String, double[]> seconds, double flops) {
        double[] blas = seconds.get("openblas");
        for (Map.Entry<String, double[]> e : seconds.entrySet()) {
            double med = flops / median(e.getValue()) * 1e-9;
            double best = flops / Arrays.stream(e.getValue()).min().orElseThrow() * 1e-9;
            String ratio = blas == null ? "n/a" : String.format(Locale.ROOT, "%.2f", median(blas) / median(e.getValue()));
            System.out.printf(Locale.ROOT, "%-6s %-9s %14.1f %10.1f %12s%n", label, e.getKey(), med, best, ratio);
        }
    }

    /**
     * Warms every call up, then times them in alternating rounds until measureSeconds have passed.
     * Returns, per call, the seconds of one call in each round's sample.
     */
    static Map<String, double[]> measure(Map<String, Runnable> calls, double warmSeconds, double measureSeconds) {
        Map<String, Integer> reps = new LinkedHashMap<>();
        for (Map.Entry<String, Runnable> e : calls.entrySet()) {
            long end = System.nanoTime() + (long) (warmSeconds * 1e9);
            int n = 0;
            long t0 = System.nanoTime();
            do {
                e.getValue().run();
                n++;
            } while (System.nanoTime() < end || n < 3);
            double perCall = (System.nanoTime() - t0) / 1e9 / n;
            reps.put(e.getKey(), (int) Math.max(1, Math.ceil(0.05 / perCall))); // samples of about 50 ms
            settle();
        }
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        calls.keySet().forEach(key -> samples.put(key, new ArrayList<>()));
        long end = System.nanoTime() + (long) (measureSeconds * 1e9);
        do {
            for (Map.Entry<String, Runnable> e : calls.entrySet()) {
                int r = reps.get(e.getKey());
                long t0 = System.nanoTime();
                for (int i = 0; i < r; i++) {
                    e.getValue().run();
                }
                samples.get(e.getKey()).add((System.nanoTime() - t0) / 1e9 / r);
                settle();
            }
        } while (System.nanoTime() < end || samples.values().iterator().next().size() < 3);
        Map<String, double[]> out = new LinkedHashMap<>();
        samples.forEach((key, list) -> out.put(key, list.stream().mapToDouble(Double::doubleValue).toArray()));
        return out;
    }

    /**
     * Idles between samples so that one provider's threads are asleep before the next one is timed:
     * OpenBLAS's helper threads keep spinning for a while after a call returns and would take a core from
     * the vector sample that follows (docs/performance.md, "Thread pool").
     */
    private static void settle() {
        try {
            Thread.sleep(SETTLE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("gemm-summary: interrupted", e);
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
