package org.densecl.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.densecl.data.io.AtomicFiles;
import org.densecl.experiment.MachineInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl bench fresh-jvms}: the same training step timed in N fresh JVMs, so that a JIT outcome
 * that differs from one JVM to the next (a kernel compiled without its vector intrinsics, its vectors boxed
 * on the heap) shows as a spread instead of hiding in one unlucky run. Each JVM runs
 * {@code bench step --profile}; the table gives every JVM's step time, CPU time and heap allocated per
 * step, the spread (slowest / fastest), and the ops whose time moved most between the fastest and the
 * slowest JVM. Models alternate JVM by JVM.
 *
 * <p>Paired (the default): a reference JVM per model stays up for the whole run, and each fresh JVM's timed
 * steps take turns with the reference's, one step each ({@code bench step --paced}). A host whose speed
 * drifts over seconds (shared machines do, by 20-40%) then slows both sides of a pair alike, and the
 * fresh JVM's median step / reference step is the speed of its compiled code against one fixed JIT outcome.
 * With {@code --reference-classpath} (another build) or {@code --reference-jvm-flag} the reference differs on
 * purpose, and the same pairing compares two builds or two settings, the host's drift falling on both sides.
 */
@Command(name = "fresh-jvms", mixinStandardHelpOptions = true,
        description = {"Time the ResNet-50 and DenseCL training steps in N fresh JVMs each and print the spread,"
                + " which ops moved, and the heap each step allocated (megabytes mean boxed vectors).",
                "Each child's output goes to DIR/<model>-<n>.txt, the tables to DIR/fresh-jvms.md."})
public final class FreshJvmBenchmark implements Callable<Integer> {
    @Option(names = "--jvms", description = "fresh JVMs per model (default ${DEFAULT-VALUE})")
    int jvms = 10;
    @Option(names = "--models", split = ",", description = "resnet50 and/or densecl (default ${DEFAULT-VALUE})")
    List<String> models = List.of("resnet50", "densecl");
    @Option(names = "--batch", description = "images per step (default ${DEFAULT-VALUE})")
    int batch = 8;
    @Option(names = "--size", description = "input height = width (default ${DEFAULT-VALUE})")
    int size = 224;
    @Option(names = "--queue", description = "densecl: keys per queue (default ${DEFAULT-VALUE})")
    int queue = 4096;
    @Option(names = "--warmup", description = "untimed steps per JVM (default ${DEFAULT-VALUE})")
    int warmup = 5;
    @Option(names = "--steps", description = "timed steps per JVM (default ${DEFAULT-VALUE})")
    int steps = 3;
    @Option(names = "--threads", description = "cpu backend threads, 0 = all cores (default ${DEFAULT-VALUE})")
    int threads = 0;
    @Option(names = "--jvm-flag", paramLabel = "FLAG", description = "a flag for every child JVM, e.g."
            + " -Ddensecl.vectorBits=512 (repeatable)")
    List<String> jvmFlags = new ArrayList<>();
    @Option(names = "--reference-jvm-flag", paramLabel = "FLAG", description = "paired: a flag for the reference JVM"
            + " instead of --jvm-flag's (repeatable), e.g. -Ddensecl.vectorBits=256 to pair the fresh JVMs' kernels"
            + " against 8-float ones")
    List<String> referenceJvmFlags;
    @Option(names = "--reference-classpath", paramLabel = "PATH", description = "paired: the reference JVM runs this"
            + " class path instead of this build's, e.g. another checkout's target/classes:$(cat"
            + " target/classpath.txt), so that the ratios compare two builds step by step")
    String referenceClassPath;
    @Option(names = "--moved", description = "ops listed as moved (default ${DEFAULT-VALUE})")
    int movedRows = 8;
    @Option(names = "--paired", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "time every fresh JVM's steps in turn with a reference JVM's, step by step, and give each"
                    + " against the reference, so that a drifting host cancels out (default on; --no-paired: the"
                    + " fresh JVMs alone, one after the other)")
    boolean paired = true;
    @Option(names = "--output", paramLabel = "DIR", defaultValue = "runs/fresh-jvms",
            description = "output folder (default ${DEFAULT-VALUE})")
    Path output;

    @Override
    public Integer call() throws IOException, InterruptedException {
        for (String m : models) {
            if (!m.equals("resnet50") && !m.equals("densecl")) {
                throw new IllegalArgumentException("bench fresh-jvms: --models takes resnet50 and densecl, not " + m);
            }
        }
        if (!paired && (referenceJvmFlags != null || referenceClassPath != null)) {
            throw new IllegalArgumentException("bench fresh-jvms: --reference-jvm-flag and --reference-classpath need"
                    + " the paired mode (drop --no-paired)");
        }
        if (jvms < 2 || steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("bench fresh-jvms: need --jvms >= 2, --steps >= 1, --warmup >= 0");
        }
        Files.createDirectories(output);
        Map<String, List<StepRunOutput>> runs = new LinkedHashMap<>();
        Map<String, List<Double>> againstReference = new LinkedHashMap<>();
        Map<String, PacedChild> references = new LinkedHashMap<>();
        long start = System.nanoTime();
        try {
            if (paired) {
                for (String model : models) {
                    System.err.printf("fresh-jvms: starting the %s reference JVM%n", model);
                    PacedChild ref = new PacedChild(referenceCommand(model, jvms * steps),
                            output.resolve(model + "-reference.txt"));
                    references.put(model, ref);
                    for (int w = 0; w < warmup; w++) {
                        ref.step();
                    }
                }
            }
            for (int i = 1; i <= jvms; i++) {
                for (String model : models) {
                    Path log = output.resolve(model + "-" + i + ".txt");
                    StepRunOutput r;
                    String vsReference = "";
                    if (references.containsKey(model)) {
                        double ratio = runPaired(model, log, references.get(model));
                        againstReference.computeIfAbsent(model, k -> new ArrayList<>()).add(ratio);
                        r = StepRunOutput.parse(Files.readString(log));
                        vsReference = String.format(Locale.ROOT, ", %.3f x the reference", ratio);
                    } else {
                        r = runChild(model, log);
                    }
                    runs.computeIfAbsent(model, k -> new ArrayList<>()).add(r);
                    System.err.printf(Locale.ROOT, "fresh-jvms: %s JVM %d/%d: %.3f s/step (median)%s, CPU %.3f s,"
                            + " heap %.1f MiB per step (%.1f min so far)%n", model, i, jvms, r.medianSeconds(), vsReference,
                            r.cpuSeconds(), r.heapMib(), (System.nanoTime() - start) / 60e9);
                }
            }
            for (PacedChild ref : references.values()) {
                ref.finish();
            }
        } finally {
            references.values().forEach(PacedChild::close);
        }
        StringBuilder md = new StringBuilder();
        // The children's machine line: they choose their kernels' width for their model (WidthChoice), this JVM does not.
        String machine = runs.values().stream().flatMap(List::stream).map(StepRunOutput::machine)
                .filter(m -> !m.isEmpty()).distinct().reduce((a, b) -> a + "; " + b).orElse(MachineInfo.cpuLine());
        md.append("# Fresh-JVM spread\n\nMachine: ").append(machine)
                .append(jvmFlags.isEmpty() ? "" : "; child JVM flags " + String.join(" ", jvmFlags))
                .append(referenceNote()).append(".\n");
        for (var e : runs.entrySet()) {
            md.append('\n').append(table(e.getKey(), e.getValue(), againstReference.get(e.getKey())));
        }
        System.out.print(md);
        AtomicFiles.write(output.resolve("fresh-jvms.md"), out -> out.write(md.toString().getBytes(StandardCharsets.UTF_8)));
        return 0;
    }

    // The child's command line: bench step --profile with this run's sizes, `timed` timed steps.
    private List<String> command(String model, int timed, boolean paced) {
        return ChildJvm.command(jvmFlags, stepArgs(model, timed, paced));
    }

    // The reference JVM's: its own flags and class path where given.
    List<String> referenceCommand(String model, int timed) {
        return ChildJvm.command(referenceJvmFlags != null ? referenceJvmFlags : jvmFlags,
                referenceClassPath != null ? referenceClassPath : System.getProperty("java.class.path"),
                stepArgs(model, timed, true));
    }

    // What the tables say about a reference that differs from the fresh JVMs.
    private String referenceNote() {
        String note = "";
        if (referenceJvmFlags != null) {
            note += "; reference JVM flags " + (referenceJvmFlags.isEmpty() ? "(none)" : String.join(" ", referenceJvmFlags));
        }
        if (referenceClassPath != null) {
            String[] entries = referenceClassPath.split(java.io.File.pathSeparator);
            note += "; reference class path " + entries[0]
                    + (entries.length > 1 ? " (and " + (entries.length - 1) + " more entries)" : "");
        }
        return note;
    }

    private List<String> stepArgs(String model, int timed, boolean paced) {
        List<String> args = new ArrayList<>(List.of("bench", "step", "--model", model, "--batch", "" + batch, "--size",
                "" + size, "--warmup", "" + warmup, "--steps", "" + timed, "--threads", "" + threads, "--profile",
                "--profile-rows", "100000"));
        if (model.equals("densecl")) {
            args.addAll(List.of("--arch", "resnet50", "--queue", "" + queue));
        }
        if (paced) {
            args.add("--paced");
        }
        return args;
    }

    // A fresh JVM paced against the reference: its warm-up alone, then each timed step paired with one of
    // the reference's, the order alternating pair by pair. Returns the median of fresh / reference.
    private double runPaired(String model, Path log, PacedChild reference) throws IOException, InterruptedException {
        double[] ratios = new double[steps];
        try (PacedChild fresh = new PacedChild(command(model, steps, true), log)) {
            for (int w = 0; w < warmup; w++) {
                fresh.step();
            }
            for (int t = 0; t < steps; t++) {
                double mine, theirs;
                if (t % 2 == 0) {
                    mine = fresh.step();
                    theirs = reference.step();
                } else {
                    theirs = reference.step();
                    mine = fresh.step();
                }
                ratios[t] = mine / theirs;
            }
            fresh.finish();
        }
        return StepBenchmark.median(ratios);
    }

    private StepRunOutput runChild(String model, Path log) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command(model, steps, false)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        int rc = p.waitFor();
        String text = Files.readString(log);
        if (rc != 0) {
            throw new IllegalStateException("bench fresh-jvms: the " + model + " step failed with exit code " + rc
                    + "; its output is in " + log);
        }
        try {
            return StepRunOutput.parse(text);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("bench fresh-jvms: " + log + ": " + e.getMessage(), e);
        }
    }

    /**
     * One model's Markdown: a row per JVM, the spread, and the ops that moved most; with {@code againstReference} (or
     * null) each JVM's median step against the reference JVM's.
     */
    String table(String model, List<StepRunOutput> rs, List<Double> againstReference) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "## %s, batch %d, %dx%d%s, %d warm-up + %d timed steps per JVM%n%n", model,
                batch, size, size, model.equals("densecl") ? ", queue " + queue : "", warmup, steps));
        sb.append("| JVM | s/step (median) | fastest step, s | CPU s/step | heap MiB/step | on huge pages, MiB |")
                .append(againstReference == null ? "\n|---:|---:|---:|---:|---:|---:|\n" : " x reference |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        double[] medians = new double[rs.size()], fastest = new double[rs.size()];
        for (int i = 0; i < rs.size(); i++) {
            StepRunOutput r = rs.get(i);
            medians[i] = r.medianSeconds();
            fastest[i] = r.minSeconds();
            sb.append(String.format(Locale.ROOT, "| %d | %.3f | %.3f | %.3f | %.1f | %s |", i + 1, r.medianSeconds(),
                    r.minSeconds(),
                    r.cpuSeconds(), r.heapMib(), r.hugePageMib() < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f",
                            r.hugePageMib())));
            sb.append(againstReference == null ? "\n" : String.format(Locale.ROOT, " %.3f |%n", againstReference.get(i)));
        }
        double[] sorted = medians.clone();
        Arrays.sort(sorted);
        sb.append(String.format(Locale.ROOT, "%nStep time over %d JVMs: min %.3f s, median %.3f s, max %.3f s;"
                + " slowest / fastest = **%.2f**.%n", rs.size(), sorted[0], StepBenchmark.median(medians),
                sorted[sorted.length - 1], sorted[sorted.length - 1] / sorted[0]));
        double[] fastSorted = fastest.clone();
        Arrays.sort(fastSorted);
        sb.append(String.format(Locale.ROOT, "Fastest step of each JVM: min %.3f s, median %.3f s, max %.3f s;"
                + " slowest / fastest = **%.2f** (a busy host only adds time, so a JVM's fastest step is the speed of"
                + " its compiled code).%n", fastSorted[0], StepBenchmark.median(fastest), fastSorted[fastSorted.length - 1],
                fastSorted[fastSorted.length - 1] / fastSorted[0]));
        if (againstReference != null) {
            double[] p = againstReference.stream().mapToDouble(Double::doubleValue).toArray();
            double[] ps = p.clone();
            Arrays.sort(ps);
            sb.append(String.format(Locale.ROOT, "Against the reference JVM, step by step (median of fresh / reference"
                    + " over each JVM's %d pairs): min %.3f, median %.3f, max %.3f; slowest / fastest = **%.2f**.%n",
                    steps, ps[0], StepBenchmark.median(p), ps[ps.length - 1], ps[ps.length - 1] / ps[0]));
        }
        sb.append(moved(rs, medians));
        return sb.toString();
    }

    // The ops (over 1% of the fastest JVM's step) whose ms per step differ most between the fastest and the
    // slowest JVM: where a slow JVM loses its time.
    private String moved(List<StepRunOutput> rs, double[] medians) {
        int fast = 0, slow = 0;
        for (int i = 1; i < medians.length; i++) {
            fast = medians[i] < medians[fast] ? i : fast;
            slow = medians[i] > medians[slow] ? i : slow;
        }
        Map<String, Double> f = rs.get(fast).opMillis(), s = rs.get(slow).opMillis();
        double floor = 10 * medians[fast]; // 1% of the fastest step, in ms
        List<String> ops = new ArrayList<>(f.keySet());
        ops.removeIf(op -> !s.containsKey(op) || Math.max(f.get(op), s.get(op)) < floor);
        ops.sort((a, b) -> Double.compare(s.get(b) - f.get(b), s.get(a) - f.get(a)));
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%nOps that moved most, fastest JVM (%d) against"
                + " slowest (%d), ms per step:%n%n| op | fastest | slowest | ratio |%n|---|---:|---:|---:|%n", fast + 1,
                slow + 1));
        for (String op : ops.subList(0, Math.min(movedRows, ops.size()))) {
            sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.2f |%n", op, f.get(op), s.get(op),
                    s.get(op) / f.get(op)));
        }
        return sb.toString();
    }
}
