package org.densecl.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.densecl.report.StepRatioChart;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./densecl bench ratios}: the step comparisons of a {@link StepRatioLog} pooled per step and setup.
 * One run's rounds sample the host's drift over minutes; runs taken in other hours and sessions sample its
 * moods, which move the ratio more. So a speed target counts as shown only where both the latest run's
 * interval (over its rounds) and the interval over the runs (Student's t over the runs' geometric means, each
 * run one sample) clear it.
 */
@Command(name = "ratios", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pool the runs of 'bench step --compare-pytorch --record FILE' per step and setup: each run's"
                + " rounds, the runs' geometric mean with its 95% interval, the rounds below the target, and whether"
                + " the target is shown (the latest run's interval and the runs' interval both above it)."})
public final class RatiosCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "LOG", description = "the log (default ${DEFAULT-VALUE})")
    Path log = Path.of("docs/step-ratios.jsonl");
    @Option(names = "--target", description = "the ratio to clear, PyTorch's s/step over ours (default ${DEFAULT-VALUE})")
    double target = 1.25;
    @Option(names = "--step", paramLabel = "TEXT", description = "only steps whose description contains TEXT")
    String stepFilter;
    @Option(names = "--setup", paramLabel = "TEXT", description = "only setups (machine line, ISA caps) containing TEXT")
    String setupFilter;
    @Option(names = "--plot", paramLabel = "PNG", description = "also draw every round and run, one panel per step"
            + " and setup, with the target as a line")
    Path plot;

    /** Parses {@code args} and runs, as {@code ./densecl bench ratios} does: the exit code. */
    public static int run(String[] args) {
        return Main.execute(new RatiosCommand(), args);
    }

    /** The runs of one step on one setup, in the log's order. */
    record Group(String step, String setup, List<StepRatioLog.Run> runs) {

        /** (runs) each run's geometric mean over its rounds. */
        double[] runMeans() {
            return runs.stream().mapToDouble(StepRatioLog.Run::geometricMean).toArray();
        }

        /** (rounds) every round of every run. */
        double[] rounds() {
            return runs.stream().flatMapToDouble(r -> java.util.Arrays.stream(r.roundRatios())).toArray();
        }
    }

    @Override
    public Integer call() {
        if (!(target > 0) || Double.isInfinite(target)) {
            throw new IllegalArgumentException("bench ratios: --target must be positive, not " + target);
        }
        List<StepRatioLog.Run> all = StepRatioLog.read(log);
        List<Group> groups = groups(all);
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("bench ratios: " + log + " has no runs" + (stepFilter == null
                    && setupFilter == null ? "" : " matching --step/--setup") + " (" + all.size() + " in all)");
        }
        int shown = groups.stream().mapToInt(g -> g.runs().size()).sum();
        System.out.printf(Locale.ROOT, "bench ratios: %s, %d runs%s; target %.2f (PyTorch's s/step over ours)%n", log,
                shown, shown == all.size() ? "" : " of " + all.size() + " (--step/--setup)", target);
        for (Group g : groups) {
            System.out.println();
            System.out.print(report(g, target));
        }
        System.out.println();
        System.out.println("(each added run can flip a verdict near the target, and checking after every run makes a"
                + " chance pass likelier: fix the runs to take before taking them)");
        if (plot != null) {
            List<StepRatioChart.Panel> panels = new ArrayList<>();
            for (Group g : groups) {
                panels.add(new StepRatioChart.Panel(g.step(), g.setup(),
                        g.runs().stream().map(StepRatioLog.Run::roundRatios).toList(), g.runMeans()));
            }
            StepRatioChart.write(plot, target, panels);
            System.out.println();
            System.out.println("plot: " + plot);
        }
        return 0;
    }

    /** The runs that pass the filters, grouped by step and setup, groups in the order they first appear. */
    List<Group> groups(List<StepRatioLog.Run> runs) {
        Map<String, Group> groups = new LinkedHashMap<>();
        for (StepRatioLog.Run r : runs) {
            if ((stepFilter == null || r.step().contains(stepFilter))
                    && (setupFilter == null || r.setup().contains(setupFilter))) {
                groups.computeIfAbsent(r.step() + "\n" + r.setup(), k -> new Group(r.step(), r.setup(),
                        new ArrayList<>())).runs().add(r);
            }
        }
        return new ArrayList<>(groups.values());
    }

    /** One group's table and verdict lines. */
    static String report(Group g, double target) {
        StringBuilder s = new StringBuilder();
        s.append(g.step()).append('\n').append("  on ").append(g.setup()).append('\n');
        s.append("   run  when                              rounds  geo mean  rounds' 95% interval  commit\n");
        for (int i = 0; i < g.runs().size(); i++) {
            StepRatioLog.Run r = g.runs().get(i);
            s.append(String.format(Locale.ROOT, "  %4d  %-32s  %6d  %8.3f  %-20s  %s%n", i + 1, r.when(),
                    r.roundRatios().length, r.geometricMean(), interval(r.roundRatios()),
                    r.commit() == null ? "-" : r.commit()));
        }
        double[] rounds = g.rounds();
        long below = java.util.Arrays.stream(rounds).filter(x -> x < target).count();
        s.append(String.format(Locale.ROOT, "  over the %d rounds: geometric mean %.3f, %s; %d of them below %.2f%n",
                rounds.length, StepRatioLog.geometricMean(rounds), rounds.length >= 2
                        ? "95% interval " + interval(rounds) + " (as if the rounds were independent)" : "one round",
                below, target));
        double[] means = g.runMeans();
        StepRatioLog.Run latest = g.runs().get(g.runs().size() - 1);
        Boolean latestClears = clears(latest.roundRatios(), target);
        Boolean runsClear = clears(means, target);
        s.append(String.format(Locale.ROOT, "  over the %d run%s: geometric mean %.3f, 95%% interval %s (Student's t"
                + " over the runs' geometric means)%n", means.length, means.length == 1 ? "" : "s",
                StepRatioLog.geometricMean(means),
                means.length >= 2 ? interval(means) : "n/a (one run)"));
        boolean shown = Boolean.TRUE.equals(latestClears) && Boolean.TRUE.equals(runsClear);
        s.append(String.format(Locale.ROOT, "  target %.2f %s: the latest run's interval %s it, the runs' interval %s"
                + " it%n", target, shown ? "SHOWN" : "not shown", verdict(latestClears), verdict(runsClear)));
        return s.toString();
    }

    // "1.288-1.402", or "n/a" for one value.
    private static String interval(double[] ratios) {
        if (ratios.length < 2) {
            return "n/a";
        }
        RoundRatios r = RoundRatios.of(ratios);
        return String.format(Locale.ROOT, "%.3f-%.3f", r.low(), r.high());
    }

    // Whether the interval of `ratios` lies above `target`; null where one value gives no interval.
    private static Boolean clears(double[] ratios, double target) {
        return ratios.length < 2 ? null : RoundRatios.of(ratios).low() >= target;
    }

    private static String verdict(Boolean clears) {
        return clears == null ? "cannot say (one value, no interval) whether it clears" : clears ? "clears"
                : "reaches below";
    }
}
