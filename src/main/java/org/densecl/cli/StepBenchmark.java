package org.densecl.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.backend.OpProfile;
import org.densecl.backend.cpu.CpuTuning;
import org.densecl.backend.cpu.gemm.GemmTuning;
import org.densecl.backend.cpu.simd.WidthChoice;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Conv2d;
import org.densecl.nn.Param;
import org.densecl.nn.Sgd;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl bench step}: one full ResNet training step (zero gradients, forward, softmax
 * cross-entropy, backward, SGD with momentum 0.9 and weight decay 1e-4), timed after warm-up. Prints
 * images/s, s/step and GFLOP/s (a training step counts 3x the forward conv + fc FLOPs: the forward, the
 * data gradient and the filter gradient each cost one forward), and the memory the step needs: the sum of
 * weights, gradients, optimiser state and activations planned by the model against what the process
 * really holds. With native memory tracking on ({@code DENSECL_JAVA_OPTS=-XX:NativeMemoryTracking=summary})
 * that is the buffers on huge pages ({@link org.densecl.backend.HugePages}, mmap'd: NMT cannot see them)
 * plus NMT's "Other" category, where every other Arena segment is counted; without
 * it (the launcher's default) that figure is not available and only the peak resident set (JVM included)
 * is printed. With {@code --compare-pytorch} it also times bench/pytorch/step_bench.py on the same machine
 * with the same shape, runs of the two alternated ({@link #runRounds}), and prints the ratios.
 *
 * <p>{@code --model densecl} times a DenseCL pretraining step instead ({@link DenseClStepBenchmark}, options
 * {@code --arch --queue --bn-groups --width-multiplier}; its PyTorch twin is
 * bench/pytorch/densecl_step_bench.py). {@code --model fcn} times an FCN R50-D8 fine-tuning step
 * ({@link FcnStepBenchmark}, option {@code --width-multiplier}; twin bench/pytorch/fcn_step_bench.py), with
 * its own defaults for --batch, --size, --channels and --classes.
 */
@Command(name = "step", mixinStandardHelpOptions = true,
        description = {"Time one full ResNet training step (forward, backward, SGD) and report its memory.",
                "With --model densecl: one DenseCL pretraining step (both encoders, necks, losses, SGD, queues).",
                "With --model fcn: one FCN R50-D8 fine-tuning step (dilated ResNet-50, both heads, losses, SGD)."})
public final class StepBenchmark implements Callable<Integer> {
    @Option(names = "--model", description = "resnet18|34|50|101|152, densecl or fcn (default ${DEFAULT-VALUE})")
    String model = "resnet50";
    @Option(names = "--arch", description = "densecl only: backbone resnet18|34|50|101|152 (default resnet50)")
    String arch;
    @Option(names = "--queue", description = "densecl only: K keys per queue, a multiple of --batch (default 4096)")
    Integer queue;
    @Option(names = "--bn-groups", description = "densecl only: shuffle-BN groups (default 1: one BN over the"
            + " batch, as the single-device PyTorch twin, which has no batch shuffle)")
    Integer bnGroups;
    @Option(names = "--width-multiplier", description = "densecl and fcn only: backbone width (and fcn's heads) x"
            + " this (default 1)")
    Double widthMultiplier;
    // --batch, --size, --channels and --classes have per-model defaults (see resolveDefaults), so the options
    // are nullable and call() resolves them into the plain fields below, which every benchmark reads.
    @Option(names = "--batch", paramLabel = "<batch>", description = "images per step (default 8; fcn 2)")
    Integer batchOption;
    @Option(names = "--size", paramLabel = "<size>", description = "input height = width (default 224; fcn 256)")
    Integer sizeOption;
    @Option(names = "--channels", paramLabel = "<channels>", description = "input channels (default 3; fcn 1, the"
            + " study's gray images)")
    Integer channelsOption;
    @Option(names = "--classes", paramLabel = "<classes>", description = "resnet: fc outputs (default 1000,"
            + " torchvision's); fcn: segmentation classes (default 2, background and recess)")
    Integer classesOption;
    int batch;
    int size;
    int channels;
    int classes;
    @Option(names = "--backend", description = "ref, cpu or cuda (cuda:fp32 strict, cuda:bf16; default ${DEFAULT-VALUE})")
    String backend = "cpu";
    @Option(names = "--threads", description = "cpu backend threads, 0 = all cores (default ${DEFAULT-VALUE})")
    int threads = 0;
    @Option(names = "--gemm", description = "vector or openblas (default ${DEFAULT-VALUE})")
    String gemm = "vector";
    @Option(names = "--conv", description = "cpu backend's 3x3 stride-1 convolutions: winograd (F(4x4, 3x3))"
            + " or gemm (implicit GEMM, as every other convolution) (default ${DEFAULT-VALUE})")
    String conv = "winograd";
    // Ops called once or twice per step (the heads, the losses, pooling) are compiled by C2 only after
    // several calls; until then they run in the interpreter or C1, where every Vector API operation
    // allocates, so their first calls are much slower. The PyTorch twin gets the same untimed steps.
    @Option(names = "--warmup", description = "untimed steps first, so that the JIT has compiled every op"
            + " (default ${DEFAULT-VALUE})")
    int warmup = 5;
    @Option(names = "--steps", description = "timed steps (per round with --compare-pytorch) (default"
            + " ${DEFAULT-VALUE})")
    int steps = 5;
    @Option(names = "--compare-pytorch", description = "also time the same step in PyTorch"
            + " (bench/pytorch/step_bench.py, densecl: densecl_step_bench.py, fcn: fcn_step_bench.py), runs of each"
            + " alternated, and print the ratios")
    boolean comparePytorch;
    @Option(names = "--rounds", description = "with --compare-pytorch: runs of each side (warm-up and --steps"
            + " timed steps), alternated (default ${DEFAULT-VALUE})")
    int rounds = 3;
    @Option(names = "--pytorch-channels-last", description = "run the PyTorch step in channels_last")
    boolean channelsLast;
    @Option(names = "--profile", description = "also time every backend op of the timed steps and print the"
            + " costliest (convolutions by shape)")
    boolean profile;
    @Option(names = "--profile-rows", description = "rows of the --profile table (default ${DEFAULT-VALUE})")
    int profileRows = 30;
    @Option(names = "--python", description = "interpreter with torch (default ${DEFAULT-VALUE})")
    String python = "/usr/bin/python3";
    @Option(names = "--record", paramLabel = "LOG", description = "with --compare-pytorch: append this run (its"
            + " rounds' ratios and times, the machine, the commit) to LOG, one JSON line per run, for"
            + " 'bench ratios' to pool with earlier runs (the project's: docs/step-ratios.jsonl)")
    java.nio.file.Path record;

    @Option(names = "--paced", hidden = true, description = "print 'PACED READY' and wait for a line on standard"
            + " input before every step (warm-up and timed), print 'PACED TIME <seconds>' after it: how bench fresh-jvms"
            + " runs a fresh JVM and a reference JVM in turn")
    boolean paced;

    /** CPU time and heap allocation of every timed step, all rounds together. */
    final StepCost cost = new StepCost();
    private BufferedReader pacer; // standard input, with --paced

    @Option(names = "--disable", split = ",", paramLabel = "PATH", description = "cpu backend: fast paths to turn"
            + " off for a comparison (the same bits, but for the stem's filter gradient): splitK, wholeK, directC,"
            + " packWholeA (GEMM driver), stemConv (the direct RGB stem, forward and filter gradient),"
            + " transposedFilterGradient (dW^T = X^T dY for widening 1x1 convolutions)")
    List<String> disabled = new ArrayList<>();

    /** The cpu backend's provider and variants from --gemm, --conv and --disable. */
    CpuTuning tuning() {
        CpuTuning t = CpuTuning.DEFAULT.withGemm(gemm).withWinograd(conv.equals("winograd"));
        GemmTuning paths = t.gemmPaths();
        for (String d : disabled) {
            switch (d) {
                case "splitK" -> paths = paths.withSplitK(false);
                case "wholeK" -> paths = paths.withWholeK(false);
                case "directC" -> paths = paths.withDirectC(false);
                case "packWholeA" -> paths = paths.withPackWholeA(false);
                case "stemConv" -> t = t.withStemConv(false);
                case "transposedFilterGradient" -> t = t.withTransposedFilterGradient(false);
                default -> throw new IllegalArgumentException("bench step: --disable takes splitK, wholeK, directC,"
                        + " packWholeA, stemConv or transposedFilterGradient, not " + d);
            }
        }
        return t.withGemmPaths(paths);
    }

    /** The options of a "cuda[:...]" backend name. */
    org.densecl.backend.cuda.CudaOptions cudaOptions() {
        return org.densecl.backend.cuda.CudaOptions.parse(backend.contains(":") ? backend.substring(5) : "");
    }

    /** The cpu backend's configuration for the report's first line: "vector, winograd, 2 threads". */
    String backendDetails(int usedThreads) {
        if (backend.startsWith("cuda")) {
            return "GPU, " + cudaOptions();
        }
        // Winograd and the direct stem pair with the vector GEMM only; with OpenBLAS every convolution is a GEMM.
        String convs = gemm.equals("vector") ? conv : "every conv a GEMM";
        return backend.equals("cpu") ? gemm + ", " + convs + (disabled.isEmpty() ? "" : ", without " + String.join(" ",
                disabled)) + ", " + usedThreads + " threads" : "scalar, 1 thread";
    }

    /** Parses {@code args} and runs, as {@code ./densecl bench step} does: the exit code (the tests call this). */
    public static int run(String[] args) {
        return Main.execute(new StepBenchmark(), args);
    }

    /**
     * The FCN's defaults are the study's model (gray input, 2 classes, configs/finetune_paper.yaml) at a
     * CPU-sized step: the paper's 512x512 crops at a quarter of the area and its batch of 16 at an eighth.
     * 256x256 keeps the dilated C5 at 32x32, so the heads' 3x3 convolutions, half of the model's FLOPs, still
     * see a realistic map; batch 2 (BN still over 2048 values per channel in the heads) keeps a step of 3 x
     * 103 GFLOP per image small enough that 3 alternated rounds of 10 steps on each side take minutes on 2
     * cores, in a few GB where batch 16 at 512 would need ~16x the memory and time.
     */
    private void resolveDefaults() {
        boolean fcn = model.equals("fcn");
        batch = batchOption != null ? batchOption : fcn ? 2 : 8;
        size = sizeOption != null ? sizeOption : fcn ? 256 : 224;
        channels = channelsOption != null ? channelsOption : fcn ? 1 : 3;
        classes = classesOption != null ? classesOption : fcn ? 2 : 1000;
    }

    @Override
    public Integer call() throws Exception {
        resolveDefaults();
        // The cpu kernels' vector width for this model, before any kernel runs (16 floats on AVX-512 at full width).
        boolean widthOption = model.equals("densecl") || model.equals("fcn");
        WidthChoice.forResNetWidth(widthOption && widthMultiplier != null ? widthMultiplier : 1.0);
        if (batch < 1 || size < 32 || channels < 1 || classes < 1 || steps < 1 || warmup < 0 || rounds < 1) {
            throw new IllegalArgumentException("bench step: need batch >= 1, size >= 32, channels >= 1,"
                    + " classes >= 1, steps >= 1, warmup >= 0, rounds >= 1");
        }
        if (record != null) {
            if (!comparePytorch) {
                throw new IllegalArgumentException("bench step: --record needs --compare-pytorch (it logs the ratios)");
            }
            if (profile) {
                throw new IllegalArgumentException("bench step: --record with --profile: the profiler's timers slow"
                        + " our steps, so such a run would not pool with the others; record without --profile");
            }
            try {
                StepRatioLog.checkAppendable(record); // refused now, not after minutes of rounds
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw new IllegalArgumentException("bench step: --record " + e.getMessage());
            }
        }
        if (!conv.equals("winograd") && !conv.equals("gemm")) {
            throw new IllegalArgumentException("bench step: --conv must be winograd or gemm, not " + conv);
        }
        if (model.equals("densecl")) {
            return new DenseClStepBenchmark(this).run();
        }
        if (model.equals("fcn")) {
            if (arch != null || queue != null || bnGroups != null) {
                throw new IllegalArgumentException("bench step: --arch, --queue and --bn-groups apply to --model"
                        + " densecl only");
            }
            return new FcnStepBenchmark(this).run();
        }
        if (!model.matches("resnet(18|34|50|101|152)")) {
            throw new IllegalArgumentException("bench step: --model must be resnet18, 34, 50, 101, 152, densecl or"
                    + " fcn, not " + model);
        }
        if (arch != null || queue != null || bnGroups != null) {
            throw new IllegalArgumentException("bench step: --arch, --queue and --bn-groups apply to --model densecl"
                    + " only");
        }
        if (widthMultiplier != null) {
            throw new IllegalArgumentException("bench step: --width-multiplier applies to --model densecl and fcn"
                    + " only");
        }
        int depth = Integer.parseInt(model.substring("resnet".length()));
        ResNetConfig cfg = ResNetConfig.resnet(depth).withInChannels(channels).withClassifier(classes);
        int usedThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return runRounds((last, earlier) -> {
            try (Backend raw = Backends.open(backend, threads, tuning())) {
                OpProfile prof = OpProfile.of(raw);
                Backend be = profile ? prof.backend() : raw;
                ResNet net = ResNet.create(be, cfg, DType.F32, batch, size, size);
                net.initialize(1);
                Sgd sgd = new Sgd(be, net.parameters(), 0.9f, 1e-4f, true);
                Tensor x = be.allocate(DType.F32, net.inputShape());   // (N, H, W, C)
                Tensor labels = be.allocate(DType.I32, Shape.of(batch)); // (N)
                Tensor probs = be.allocate(DType.F32, Shape.of(batch, classes)); // (N, classes)
                Tensor loss = be.allocate(DType.F32, Shape.of(1));
                fillInputs(be, x, labels);
                double[] times = timeSteps(raw, prof, () -> {
                    net.parameters().zeroGrads();
                    net.activations().zeroGrads();
                    net.forward(x, true);
                    be.softmaxCrossEntropyForward(net.logits().value(), labels, -1, false, probs, loss);
                    be.softmaxCrossEntropyBackward(probs, labels, -1, false, 1f, net.logits().grad());
                    net.backward(null);
                    sgd.step(0.01f);
                });
                if (last) {
                    float[] lastLoss = new float[1];
                    be.download(loss, lastLoss);
                    report(net, cfg, concat(earlier, times), usedThreads, lastLoss[0]);
                    if (profile) {
                        prof.print(System.out, times.length, mean(times), profileRows);
                    }
                }
                return times;
            }
        }, "step_bench.py", List.of("--model", model, "--batch", "" + batch, "--size", "" + size,
                "--channels", "" + channels, "--classes", "" + classes));
    }

    /** One training step, as {@link #timeSteps} runs it. */
    @FunctionalInterface
    interface TimedStep {
        void run() throws Exception;
    }

    /**
     * One round of our benchmark: build the model on a fresh backend, warm up, time --steps steps, close
     * the backend (freeing its memory before PyTorch runs: see {@link PytorchStep}). The last round also
     * prints the report, with the step times of every round ({@code earlier} and its own).
     */
    @FunctionalInterface
    interface Round {
        double[] run(boolean last, double[] earlier) throws Exception;
    }

    /**
     * Runs our rounds; with --compare-pytorch --rounds of them, each followed by a run of
     * bench/pytorch/{@code script} with {@code modelArgs} and the same warm-up, steps, threads (and
     * --channels-last), then prints the comparison.
     *
     * <p>Why rounds: a shared host's speed drifts over tens of seconds, so one run of each, back to back,
     * can compare a fast minute with a slow one; alternating several shorter runs samples both sides over
     * the same minutes.
     */
    int runRounds(Round ours, String script, List<String> modelArgs) throws Exception {
        int n = comparePytorch ? rounds : 1;
        List<String> args = new ArrayList<>(modelArgs);
        args.addAll(List.of("--warmup", "" + warmup, "--steps", "" + steps, "--threads",
                "" + (threads > 0 ? threads : Runtime.getRuntime().availableProcessors())));
        if (channelsLast) {
            args.add("--channels-last");
        }
        if (backend.startsWith("cuda")) { // the twin on the same GPU at the same precision
            args.addAll(List.of("--device", "cuda", "--precision", cudaOptions().precision().toString()));
        }
        double[] all = new double[0], theirs = new double[0];
        double[] ratios = new double[comparePytorch ? n : 0]; // per round: pytorch's mean step / ours
        double[] oursRounds = new double[n], theirRounds = new double[n]; // per round: mean s/step
        List<String> roundLines = new ArrayList<>();
        String description = null;
        for (int r = 0; r < n; r++) {
            double[] t = ours.run(r == n - 1, all);
            all = concat(all, t);
            if (comparePytorch) {
                PytorchStep.Result py = PytorchStep.run(python, PytorchStep.script("bench step", script).toString(), args);
                theirs = concat(theirs, py.times());
                description = py.description();
                oursRounds[r] = mean(t);
                theirRounds[r] = mean(py.times());
                ratios[r] = theirRounds[r] / oursRounds[r];
                roundLines.add(String.format("  %5d   %11.4f   %14.4f   %12.3f", r + 1, oursRounds[r], theirRounds[r],
                        ratios[r]));
            }
        }
        if (comparePytorch) {
            printComparison(description, roundLines, all, theirs, ratios);
        }
        if (record != null) {
            StepRatioLog.Run run = new StepRatioLog.Run(java.time.Instant.now().truncatedTo(
                    java.time.temporal.ChronoUnit.SECONDS).toString(), "bench step --record", StepRatioLog.checkoutCommit(),
                    stepLabel(script, args), setupLabel(), description, ratios, oursRounds, theirRounds);
            try {
                StepRatioLog.append(record, run);
            } catch (RuntimeException e) { // the rounds took minutes: keep the run where the user can copy it
                System.out.println("  not recorded; the run's line, to add to the log by hand: " + StepRatioLog.line(run));
                throw e;
            }
            System.out.println("  recorded in " + record + " ('./densecl bench ratios " + record + "' pools it with the"
                    + " runs before)");
        }
        return 0;
    }

    /**
     * What a logged run timed: the twin's command line without its warm-up and step counts, then our backend,
     * e.g. "densecl_step_bench.py --arch resnet50 ... --threads 2 --channels-last; ours cpu (vector, winograd, 2 threads)".
     */
    String stepLabel(String script, List<String> twinArgs) {
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < twinArgs.size(); i++) {
            String a = twinArgs.get(i);
            if (a.equals("--warmup") || a.equals("--steps")) {
                i++; // and its value
            } else {
                shown.add(a);
            }
        }
        int usedThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return script + " " + String.join(" ", shown) + "; ours " + backend.split(":")[0] + " ("
                + backendDetails(usedThreads) + ")";
    }

    /** Where a logged run was timed: the machine line, and the ISA caps PyTorch's kernels ran under, if any. */
    static String setupLabel() {
        String caps = PytorchStep.isaCaps();
        return org.densecl.experiment.MachineInfo.cpuLine() + (caps.isEmpty() ? "" : "; pytorch ISA capped by " + caps);
    }

    /** Runs --warmup untimed steps, then --steps timed ones (only those recorded by {@code prof}); seconds. */
    double[] timeSteps(Backend be, OpProfile prof, TimedStep step) throws Exception {
        double[] times = new double[steps];
        prof.record(false);
        for (int i = 0; i < warmup; i++) {
            awaitTurn();
            long t0 = System.nanoTime();
            step.run();
            be.synchronize();
            reportTurn((System.nanoTime() - t0) * 1e-9);
        }
        prof.record(true);
        cost.start();
        for (int i = 0; i < steps; i++) {
            awaitTurn();
            long t0 = System.nanoTime();
            step.run();
            be.synchronize(); // a device backend returns once the step is queued; time it done
            times[i] = (System.nanoTime() - t0) * 1e-9;
            reportTurn(times[i]);
        }
        cost.stop(steps);
        prof.record(false);
        return times;
    }

    // With --paced: wait until the parent says this JVM may run its next step.
    private void awaitTurn() throws IOException {
        if (!paced) {
            return;
        }
        if (pacer == null) {
            pacer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        }
        System.out.println("PACED READY");
        System.out.flush();
        if (pacer.readLine() == null) {
            throw new IllegalStateException("bench step --paced: standard input closed before the step it was waiting for");
        }
    }

    private void reportTurn(double seconds) {
        if (paced) {
            System.out.printf(Locale.ROOT, "PACED TIME %.6f%n", seconds);
            System.out.flush();
        }
    }

    /**
     * The per-round table, the ratios of images/s (means), median steps and fastest steps, and with two or
     * more rounds the interval of the rounds' ratios ({@link RoundRatios}).
     */
    private void printComparison(String description, List<String> roundLines, double[] ours, double[] theirs,
                                 double[] roundRatios) {
        System.out.println("  " + description);
        System.out.println("  round   ours s/step   pytorch s/step   ours/pytorch");
        roundLines.forEach(System.out::println);
        System.out.printf("  ours / pytorch = %.3f (%.3f vs %.3f images/s: means of %d steps each, %d rounds"
                        + " alternated, same machine)%n", mean(theirs) / mean(ours), batch / mean(ours),
                batch / mean(theirs), ours.length, rounds);
        System.out.printf("  ours / pytorch, median step = %.3f (%.4f vs %.4f s); fastest step = %.3f (%.4f vs"
                        + " %.4f s)%n", median(theirs) / median(ours), median(ours), median(theirs),
                min(theirs) / min(ours), min(ours), min(theirs));
        if (roundRatios.length >= 2) {
            System.out.println(RoundRatios.of(roundRatios).line());
        } else {
            System.out.println("  ours / pytorch: one round, so no interval for the ratio (--rounds 2 or more gives one, a narrower one"
                    + " the more rounds)");
        }
    }

    /** "5 warm-up + 5 timed steps", or with rounds "3 rounds of 5 warm-up + 5 timed steps". */
    String stepsLabel(int timed) {
        String one = warmup + " warm-up + " + steps + " timed steps";
        return timed > steps ? timed / steps + " rounds of " + one : one;
    }

    static double[] concat(double[] a, double[] b) {
        double[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private void fillInputs(Backend be, Tensor x, Tensor labels) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(0);
        fillUniform(be, x, r);
        int[] l = new int[batch];
        for (int i = 0; i < batch; i++) {
            l[i] = r.nextInt(classes);
        }
        be.upload(l, labels);
    }

    private void report(ResNet net, ResNetConfig cfg, double[] times, int usedThreads, float lastLoss) {
        double forwardFlops = 0;
        for (Conv2d c : net.convs()) {
            forwardFlops += c.geometry().flops();
        }
        forwardFlops += 2.0 * batch * cfg.stageChannels(3) * classes; // fc
        double stepFlops = 3 * forwardFlops;
        double mean = mean(times);
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        System.out.printf("%s batch %d %dx%dx%d, backend %s (%s), %s, last loss %.4f%n", model, batch, channels,
                size, size, backend, backendDetails(usedThreads), stepsLabel(times.length), lastLoss);
        System.out.printf("  %.3f images/s, %.4f s/step (min %.4f, median %.4f, max %.4f)%n",
                batch / mean, mean, sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1]);
        System.out.printf("  %.2f GFLOP/s (step = 3 x forward = %.3f GFLOP of direct convolution, which Winograd"
                        + " computes with fewer; forward convs + fc %.3f GFLOP)%n",
                stepFlops / mean * 1e-9, stepFlops * 1e-9, forwardFlops * 1e-9);
        System.out.println(cost.line());
        System.out.println(StepCost.hugePageLine());
        System.out.println(machineLine());

        long bytes = DType.F32.bytes();
        long weights = 0, grads = 0;
        for (Param p : net.parameters().all()) {
            weights += p.numel() * bytes;
            grads += p.trainable() ? p.numel() * bytes : 0;
        }
        long optimizer = grads; // one momentum buffer per trainable tensor
        long acts = net.activations().byteSize();
        long io = net.inputShape().numel() * bytes + (long) batch * classes * bytes + batch * 4L + 4;
        long planned = weights + grads + optimizer + acts + io;
        System.out.printf("  memory planned: weights+buffers %s, gradients %s, SGD momentum %s,"
                        + " activations (values + gradients) %s, input/labels/probs %s = %s%n",
                mib(weights), mib(grads), mib(optimizer), mib(acts), mib(io), mib(planned));
        System.gc(); // initialisation leaves host arrays behind; the heap figure should be what stays
        var mem = java.lang.management.ManagementFactory.getMemoryMXBean();
        long heapUsed = mem.getHeapMemoryUsage().getUsed();
        long nmtOther = nmtOtherBytes();
        long mapped = org.densecl.backend.HugePages.liveBytes(); // NMT does not see these mmaps
        String nativeLine = nmtOther < 0
                ? "n/a (native memory tracking is off: run with DENSECL_JAVA_OPTS=-XX:NativeMemoryTracking=summary)"
                : String.format("%s = %.2fx planned (huge-page buffers %s, rounded up to 2 MiB pages, + NMT"
                        + " 'Other': the other Arena segments %s)", mib(nmtOther + mapped),
                        (nmtOther + mapped) / (double) planned, mib(mapped), mib(nmtOther));
        System.out.printf("  memory allocated: native %s; process peak RSS %s, Java heap in use %s%n",
                nativeLine, mib(procStatusBytes("VmHWM")), mib(heapUsed));
    }

    /** "  machine: AMD EPYC, AVX-512 (16 floats per vector), ...": every speed figure names its ISA. */
    static String machineLine() {
        return "  machine: " + org.densecl.experiment.MachineInfo.cpuLine();
    }

    /** Uploads uniform(-1, 1) values drawn from {@code r} into {@code x}. */
    static void fillUniform(Backend be, Tensor x, java.util.SplittableRandom r) {
        float[] v = new float[(int) x.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        be.upload(v, x);
    }

    /** NMT's committed "Other" bytes (Unsafe/Arena allocations), or -1 when tracking is off. */
    private static long nmtOtherBytes() {
        try {
            var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            var name = new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand");
            String out = (String) server.invoke(name, "vmNativeMemory", new Object[] {new String[] {"summary"}},
                    new String[] {String[].class.getName()});
            // "-  Other (reserved=123KB, committed=123KB)"
            var m = java.util.regex.Pattern.compile("-\\s+Other \\(reserved=\\d+KB, committed=(\\d+)KB\\)")
                    .matcher(out);
            return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    /** A /proc/self/status size such as "VmHWM: 123 kB" in bytes, or -1 off Linux. */
    static long procStatusBytes(String key) {
        return procBytes("/proc/self/status", key);
    }

    /** A size line "KEY: 123 kB" of a /proc file, in bytes, or -1 when the file or the line is missing. */
    static long procBytes(String file, String key) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(file))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // not Linux: reported as negative
        }
        return -1;
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
