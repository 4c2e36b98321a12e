package org.densecl.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.densecl.benchmark.ConvLayers;
import org.densecl.benchmark.ConvLayers.Layer;

/**
 * The report of {@code bench conv-layers}: per layer its calls per step, our milliseconds per call of each pass
 * (the rounds' mean) and what they add to a step, and with PyTorch's times beside them each pass's speed ratio
 * (ours / pytorch: PyTorch's time over ours, above 1 where ours is faster), then the step's totals with the
 * rounds' interval and the layers where PyTorch gains most.
 */
final class ConvLayersTable {
    private ConvLayersTable() {}

    /**
     * Prints the table. {@code ours} (rounds, layers, 3) and {@code theirs} (rounds, layers, 3, or no rounds)
     * hold seconds per call, NaN for a pass the step does not call; {@code description} is the PyTorch run's
     * "pytorch ..." line (null without PyTorch).
     */
    static void print(List<Layer> layers, double[][][] ours, double[][][] theirs, String description) {
        boolean compare = theirs.length > 0;
        double[][] o = meanOverRounds(ours), t = compare ? meanOverRounds(theirs) : null;
        if (compare) {
            System.out.println("  " + description);
        }
        System.out.printf(Locale.ROOT, "  %-28s %14s%24s %9s%s%n", "layer", "calls per step", "ours ms per call",
                "ours ms", compare ? String.format(Locale.ROOT, "   %24s %18s", "pytorch ms per call", "ours / pytorch") : "");
        System.out.printf(Locale.ROOT, "  %-28s %14s%24s %9s%s%n", "", "fwd data filt", "fwd    data  filter",
                "per step", compare ? String.format(Locale.ROOT, "   %24s %18s", "fwd    data  filter", "fwd  data  filt") : "");
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-28s %4d %4d %4d %s %9.1f",
                    l.name(), l.forward(), l.data(), l.filter(), times(o[i]), 1e3 * perStep(l, o[i])));
            if (compare) {
                row.append("   ").append(times(t[i])).append(" ");
                for (int p = 0; p < 3; p++) {
                    row.append(Double.isNaN(o[i][p]) ? "     -" : String.format(Locale.ROOT, " %5.2f", t[i][p] / o[i][p]));
                }
            }
            System.out.println(row);
        }
        double[] oursTotals = totals(layers, ours);
        System.out.printf(Locale.ROOT, "  per step (calls x ms/call, rounds' mean): ours %.1f ms%s%n",
                1e3 * StepBenchmark.mean(oursTotals), compare ? "" : " (the convolutions alone, each layer timed apart)");
        if (!compare) {
            return;
        }
        double[] theirTotals = totals(layers, theirs);
        System.out.printf(Locale.ROOT, "  pytorch %.1f ms: ours / pytorch = %.3f (speed: pytorch's time over ours)%n",
                1e3 * StepBenchmark.mean(theirTotals), StepBenchmark.mean(theirTotals) / StepBenchmark.mean(oursTotals));
        if (ours.length >= 2) {
            double[] ratios = new double[ours.length];
            for (int r = 0; r < ratios.length; r++) {
                ratios[r] = theirTotals[r] / oursTotals[r];
            }
            System.out.println(RoundRatios.of(ratios).line());
        }
        System.out.println("  where pytorch gains most (ms per step): " + largestLosses(layers, o, t, 5));
    }

    /** The {@code count} (layer, pass) pairs where ours loses the most step time, "3x3/1 ... data +2.1". */
    static String largestLosses(List<Layer> layers, double[][] o, double[][] t, int count) {
        record Loss(String what, double ms) {}
        List<Loss> losses = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            for (int p = 0; p < 3; p++) {
                double ms = 1e3 * layers.get(i).calls(p) * (o[i][p] - t[i][p]);
                if (ms > 0) {
                    losses.add(new Loss(layers.get(i).name() + " " + ConvLayers.PASSES.get(p), ms));
                }
            }
        }
        losses.sort(Comparator.comparingDouble(Loss::ms).reversed());
        List<String> parts = new ArrayList<>();
        for (Loss l : losses.subList(0, Math.min(count, losses.size()))) {
            parts.add(String.format(Locale.ROOT, "%s +%.1f", l.what(), l.ms()));
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    // Three milliseconds columns, 8 characters each.
    private static String times(double[] s) {
        StringBuilder b = new StringBuilder();
        for (double v : s) {
            b.append(Double.isNaN(v) ? "       -" : String.format(Locale.ROOT, " %7.2f", 1e3 * v));
        }
        return b.toString();
    }

    // Seconds a step spends in this layer: calls x seconds per call over the passes it calls.
    private static double perStep(Layer l, double[] s) {
        double sum = 0;
        for (int p = 0; p < 3; p++) {
            if (l.calls(p) > 0) {
                sum += l.calls(p) * s[p];
            }
        }
        return sum;
    }

    // Per round: the step's seconds over all layers.
    private static double[] totals(List<Layer> layers, double[][][] rounds) {
        double[] totals = new double[rounds.length];
        for (int r = 0; r < rounds.length; r++) {
            for (int i = 0; i < layers.size(); i++) {
                totals[r] += perStep(layers.get(i), rounds[r][i]);
            }
        }
        return totals;
    }

    private static double[][] meanOverRounds(double[][][] rounds) {
        int layers = rounds[0].length;
        double[][] m = new double[layers][3];
        for (double[][] round : rounds) {
            for (int i = 0; i < layers; i++) {
                for (int p = 0; p < 3; p++) {
                    m[i][p] += round[i][p] / rounds.length;
                }
            }
        }
        return m;
    }
}
