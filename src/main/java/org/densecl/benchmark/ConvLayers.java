package org.densecl.benchmark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.backend.ConvGeometry;
import org.densecl.nn.Conv2d;
import org.densecl.tensor.Tensor;

/**
 * The distinct convolutions of a network with the calls one training step makes of each, and a timer that runs
 * one layer's three passes alone: {@code ./densecl bench conv-layers} sets these side by side with PyTorch's,
 * layer by layer, to show where a step's convolution time goes and where each side is faster.
 */
public final class ConvLayers {
    /** The three passes a training step makes of a convolution, in the order of {@link Layer#calls(int)}. */
    public static final List<String> PASSES = List.of("forward", "data", "filter");

    /**
     * One distinct convolution and its calls per training step.
     *
     * @param g       the geometry, batch included
     * @param forward forward calls per step
     * @param data    data-gradient calls per step
     * @param filter  filter-gradient calls per step
     */
    public record Layer(ConvGeometry g, int forward, int data, int filter) {
        /** Calls per step of pass {@code p}: 0 forward, 1 data gradient, 2 filter gradient. */
        public int calls(int p) {
            return switch (p) {
                case 0 -> forward;
                case 1 -> data;
                case 2 -> filter;
                default -> throw new IllegalArgumentException("conv layers: pass " + p + " is not 0, 1 or 2");
            };
        }

        /** "3x3/2 128->128 at 56x56", the --profile table's name for the shape. */
        public String name() {
            return g.r() + "x" + g.s() + "/" + g.strideH() + " " + g.c() + "->" + g.k() + " at " + g.h() + "x" + g.w()
                    + (g.dilationH() > 1 ? " dilation " + g.dilationH() : "");
        }

        Layer plus(int f, int d, int w) {
            return new Layer(g, forward + f, data + d, filter + w);
        }
    }

    private ConvLayers() {}

    /**
     * The distinct layers of {@code convs} (a model's convolutions, its input layer first), in order of first
     * use. A step runs each convolution's forward {@code forwardsPerStep} times (2 for DenseCL: the query and
     * the key encoder), and each backward pass once, except the input layer's data gradient: no step needs the
     * gradient of its images.
     */
    public static List<Layer> of(List<Conv2d> convs, int forwardsPerStep) {
        if (forwardsPerStep < 1) {
            throw new IllegalArgumentException("conv layers: forwards per step must be >= 1, got " + forwardsPerStep);
        }
        Map<ConvGeometry, Layer> layers = new LinkedHashMap<>();
        for (int i = 0; i < convs.size(); i++) {
            ConvGeometry g = convs.get(i).geometry();
            Layer seen = layers.getOrDefault(g, new Layer(g, 0, 0, 0));
            layers.put(g, seen.plus(forwardsPerStep, i == 0 ? 0 : 1, 1));
        }
        return new ArrayList<>(layers.values());
    }

    /**
     * Seconds per call of each pass of {@code layer} on {@code be}: {@code warmup} untimed calls, then the mean
     * of {@code reps} timed ones, on seeded noise; NaN for a pass the step never calls. Without bias (the dense
     * neck's 1x1s add one in the step, a pass over y), and the data gradient assigns dx (a step's layers whose
     * input gradient another path writes first add to it instead, reading dx once more).
     */
    public static double[] time(Backend be, Layer layer, int warmup, int reps) {
        ConvGeometry g = layer.g();
        try (BenchData data = new BenchData()) {
            Tensor x = data.random(g.xShape(), 1);  // (N, H, W, C)
            Tensor w = data.random(g.wShape(), 2);  // (K, R, S, C)
            Tensor y = data.zeros(g.yShape());      // (N, P, Q, K)
            Tensor dy = data.random(g.yShape(), 3); // (N, P, Q, K)
            Tensor dx = data.zeros(g.xShape());     // (N, H, W, C)
            Tensor dw = data.zeros(g.wShape());     // (K, R, S, C)
            Runnable[] passes = {
                () -> be.conv2dForward(g, x, w, null, y),
                () -> be.conv2dBackwardData(g, dy, w, dx, false),
                () -> be.conv2dBackwardFilter(g, x, dy, dw, null),
            };
            double[] seconds = new double[passes.length];
            for (int p = 0; p < passes.length; p++) {
                if (layer.calls(p) == 0) {
                    seconds[p] = Double.NaN;
                    continue;
                }
                for (int i = 0; i < warmup; i++) {
                    passes[p].run();
                }
                be.synchronize();
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    passes[p].run();
                }
                be.synchronize();
                seconds[p] = (System.nanoTime() - t0) * 1e-9 / reps;
            }
            return seconds;
        }
    }

    /**
     * "n,h,w,c,k,r,s,stride,pad,dilation,passes": a layer as bench/pytorch/conv_layers_bench.py reads it, passes
     * three 0/1 digits (forward, data, filter) saying which ones the step calls.
     */
    public static String pytorchSpec(Layer layer) {
        ConvGeometry g = layer.g();
        if (g.strideH() != g.strideW() || g.padH() != g.padW() || g.dilationH() != g.dilationW()) {
            throw new IllegalArgumentException("conv layers: the PyTorch twin takes square strides, padding and"
                    + " dilation, got " + g);
        }
        String passes = (layer.forward() > 0 ? "1" : "0") + (layer.data() > 0 ? "1" : "0") + (layer.filter() > 0 ? "1" : "0");
        return String.join(",", String.valueOf(g.n()), String.valueOf(g.h()), String.valueOf(g.w()),
                String.valueOf(g.c()), String.valueOf(g.k()), String.valueOf(g.r()), String.valueOf(g.s()),
                String.valueOf(g.strideH()), String.valueOf(g.padH()), String.valueOf(g.dilationH()), passes);
    }
}
