package org.densecl.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.backend.cpu.CpuTuning;
import org.densecl.backend.cpu.simd.WidthChoice;
import org.densecl.benchmark.ConvLayers;
import org.densecl.benchmark.ConvLayers.Layer;
import org.densecl.densecl.DenseClNeck;
import org.densecl.densecl.DenseClOptions;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Conv2d;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl bench conv-layers}: every distinct convolution of a training step timed alone, pass by pass,
 * on the cpu backend, and with {@code --compare-pytorch} beside PyTorch's (bench/pytorch/conv_layers_bench.py) in
 * alternated rounds. Each layer's times are weighted by the calls a step makes of it, so the table shows which
 * layers a step's convolution time goes to and where each side is faster; {@code bench step --compare-pytorch}
 * gives the whole step. Our test tensors are freed after each layer, so while PyTorch runs ours holds only the
 * backend's threads and GEMM buffers.
 */
@Command(name = "conv-layers", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time every distinct convolution of a training step alone (forward, data gradient, filter"
                + " gradient), weighted by its calls per step, and with --compare-pytorch beside PyTorch's in"
                + " alternated rounds.",
                "--model densecl: the backbone (--arch) and the dense neck's two 1x1s, each forward twice (the query"
                + " and the key encoder)."})
public final class ConvLayersBenchmark implements Callable<Integer> {
    private static final String COMMAND = "bench conv-layers";

    @Option(names = "--model", description = "resnet18|34|50|101|152 or densecl (default ${DEFAULT-VALUE})")
    String model = "resnet50";

    @Option(names = "--arch", description = "densecl only: backbone resnet18|34|50|101|152 (default resnet50)")
    String arch;

    @Option(names = "--batch", description = "images per step (default ${DEFAULT-VALUE})")
    int batch = 8;

    @Option(names = "--size", description = "input height = width (default ${DEFAULT-VALUE})")
    int size = 224;

    @Option(names = "--threads", description = "cpu backend threads (PyTorch's too), 0 = all cores (default"
            + " ${DEFAULT-VALUE})")
    int threads = 0;

    @Option(names = "--warmup", description = "untimed calls of each pass first (default ${DEFAULT-VALUE})")
    int warmup = 2;

    @Option(names = "--reps", description = "timed calls of each pass, averaged (default ${DEFAULT-VALUE})")
    int reps = 5;

    @Option(names = "--compare-pytorch", description = "also time the same layers in PyTorch, in alternated rounds")
    boolean comparePytorch;

    @Option(names = "--rounds", description = "rounds of each side (default ${DEFAULT-VALUE}); with one side only,"
            + " the rounds are averaged")
    int rounds = 3;

    @Option(names = "--pytorch-memory-format", description = "channels_last (NHWC, as ours) or contiguous (default"
            + " ${DEFAULT-VALUE})")
    String memoryFormat = "channels_last";

    @Option(names = "--python", description = "interpreter with torch (default ${DEFAULT-VALUE})")
    String python = "/usr/bin/python3";

    /** Parses {@code args} and runs, as {@code ./densecl bench conv-layers} does: the exit code (the tests call this). */
    public static int run(String[] args) {
        return Main.execute(new ConvLayersBenchmark(), args);
    }

    @Override
    public Integer call() throws Exception {
        validate();
        String script = comparePytorch ? checkPytorch() : null;
        WidthChoice.forResNetWidth(1.0); // before any cpu kernel runs: full-width layers
        int usedThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        CpuTuning tuning = CpuTuning.DEFAULT;
        List<Layer> layers;
        double[][][] ours = new double[rounds][][];                         // (rounds, layers, 3) s per call
        double[][][] theirs = new double[comparePytorch ? rounds : 0][][];  // the same, PyTorch's
        String description = null;
        try (Backend be = Backends.open("cpu", usedThreads, tuning)) {
            List<Conv2d> convs = convs(be);
            layers = ConvLayers.of(convs, model.equals("densecl") ? 2 : 1);
            System.out.printf(Locale.ROOT, "conv layers of a %s step, batch %d, %dx%d: %d distinct of %d; backend cpu"
                            + " (%s, %s, %d threads), %d warm-up + %d timed calls per pass, %d round%s%n",
                    model.equals("densecl") ? "densecl " + arch + " (backbone and dense neck)" : model, batch, size, size,
                    layers.size(), convs.size(), tuning.gemm(), tuning.winograd() ? "winograd" : "no winograd",
                    usedThreads, warmup, reps, rounds, rounds == 1 ? "" : "s");
            System.out.println(StepBenchmark.machineLine());
            // One untimed sweep first, so that the JIT has compiled every layer's code before round 1 times any.
            for (Layer l : layers) {
                ConvLayers.time(be, l, warmup, 1);
            }
            for (int r = 0; r < rounds; r++) {
                ours[r] = new double[layers.size()][];
                for (int i = 0; i < layers.size(); i++) {
                    ours[r][i] = ConvLayers.time(be, layers.get(i), warmup, reps);
                }
                if (comparePytorch) {
                    List<String> lines = PytorchStep.lines(COMMAND, python, script, pytorchArgs(layers, usedThreads));
                    theirs[r] = parse(lines, layers.size());
                    description = lines.stream().filter(l -> l.startsWith("pytorch ")).findFirst().orElse("pytorch");
                }
                System.out.printf(Locale.ROOT, "  round %d of %d done%n", r + 1, rounds);
            }
        }
        ConvLayersTable.print(layers, ours, theirs, description);
        return 0;
    }

    // The model's convolutions, declared only (nothing is allocated): the backbone's, stem first, and for DenseCL
    // the dense neck's two 1x1s.
    private List<Conv2d> convs(Backend be) {
        int depth = Integer.parseInt((model.equals("densecl") ? arch : model).substring("resnet".length()));
        ResNet net = new ResNet(be, ResNetConfig.resnet(depth), new Parameters(DType.F32), new Activations(DType.F32),
                "", batch, size, size);
        List<Conv2d> convs = new ArrayList<>(net.convs());
        if (model.equals("densecl")) {
            DenseClOptions paper = DenseClOptions.paper();
            convs.addAll(new DenseClNeck(be, new Parameters(DType.F32), new Activations(DType.F32), "",
                    net.c5().shape(), paper.hidden(), paper.dim(), false).convs());
        }
        return convs;
    }

    private void validate() {
        String resnets = "resnet(18|34|50|101|152)";
        if (!model.matches(resnets) && !model.equals("densecl")) {
            throw new IllegalArgumentException(COMMAND + ": --model " + model + " is not one of resnet18, resnet34,"
                    + " resnet50, resnet101, resnet152, densecl");
        }
        if (arch != null && !model.equals("densecl")) {
            throw new IllegalArgumentException(COMMAND + ": --arch is for --model densecl only (the backbone)");
        }
        arch = arch == null ? "resnet50" : arch;
        if (!arch.matches(resnets)) {
            throw new IllegalArgumentException(COMMAND + ": --arch " + arch + " is not one of resnet18, resnet34,"
                    + " resnet50, resnet101, resnet152");
        }
        if (!memoryFormat.equals("channels_last") && !memoryFormat.equals("contiguous")) {
            throw new IllegalArgumentException(COMMAND + ": --pytorch-memory-format " + memoryFormat
                    + " is not channels_last or contiguous");
        }
        atLeast("--batch", batch, 1);
        atLeast("--size", size, 32);
        atLeast("--threads", threads, 0);
        atLeast("--warmup", warmup, 0);
        atLeast("--reps", reps, 1);
        atLeast("--rounds", rounds, 1);
    }

    private static void atLeast(String option, int value, int least) {
        if (value < least) {
            throw new IllegalArgumentException(COMMAND + ": " + option + " " + value + " is below " + least);
        }
    }

    // Before any of our rounds: the twin's path, and an interpreter that imports torch. Returns the script.
    private String checkPytorch() throws Exception {
        String script = PytorchStep.script(COMMAND, "conv_layers_bench.py").toString();
        PytorchStep.lines(COMMAND, python, "-c", List.of("import torch"));
        return script;
    }

    private List<String> pytorchArgs(List<Layer> layers, int usedThreads) {
        List<String> specs = new ArrayList<>();
        for (Layer l : layers) {
            specs.add(ConvLayers.pytorchSpec(l));
        }
        return List.of("--layers", String.join(";", specs), "--warmup", String.valueOf(warmup), "--reps",
                String.valueOf(reps), "--threads", String.valueOf(usedThreads), "--memory-format", memoryFormat);
    }

    /** The "LAYER i forward data filter" lines of the PyTorch twin, as (layers, 3) seconds per call ("nan": not run). */
    static double[][] parse(List<String> lines, int layers) {
        double[][] seconds = new double[layers][];
        for (String line : lines) {
            if (!line.startsWith("LAYER ")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            try {
                int i = f.length == 5 ? Integer.parseInt(f[1]) : -1;
                if (i < 0 || i >= layers) {
                    throw new NumberFormatException("index or field count");
                }
                seconds[i] = new double[] {seconds(f[2]), seconds(f[3]), seconds(f[4])};
            } catch (NumberFormatException e) {
                throw new IllegalStateException(COMMAND + ": unexpected line from conv_layers_bench.py (" + layers
                        + " layers): " + line);
            }
        }
        for (int i = 0; i < layers; i++) {
            if (seconds[i] == null) {
                throw new IllegalStateException(COMMAND + ": conv_layers_bench.py reported no time for layer " + i
                        + " of " + layers);
            }
        }
        return seconds;
    }

    private static double seconds(String field) {
        return field.equalsIgnoreCase("nan") ? Double.NaN : Double.parseDouble(field);
    }
}
