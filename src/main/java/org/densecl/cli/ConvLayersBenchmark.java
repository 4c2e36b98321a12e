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
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl bench conv-layers}: every distinct convolution of a ResNet training step timed alone, pass by
 * pass, on the cpu backend, and with {@code --compare-pytorch} beside PyTorch's (bench/pytorch/conv_layers_bench.py)
 * in alternated rounds. Each layer's times are weighted by the calls a step makes of it, so the table shows which
 * layers a step's convolution time goes to and where each side is faster; {@code bench step --compare-pytorch}
 * gives the whole step.
 */
@Command(name = "conv-layers", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time every distinct convolution of a ResNet training step alone (forward, data gradient, filter"
                + " gradient), weighted by its calls per step, and with --compare-pytorch beside PyTorch's.",
                "ResNet-50 at batch 8 takes about 15 s per round on each side on 2 cores."})
public final class ConvLayersBenchmark implements Callable<Integer> {
    private static final String COMMAND = "bench conv-layers";

    @Option(names = "--arch", description = "resnet18|34|50|101|152 (default ${DEFAULT-VALUE})")
    String arch = "resnet50";

    @Option(names = "--step", description = "resnet (one forward per step) or densecl (two: the query and the key"
            + " encoder) (default ${DEFAULT-VALUE})")
    String step = "resnet";

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

    /** Runs the command with these arguments: 0, or 1 after one error line (the tests call this). */
    public static int run(String[] args) {
        return Main.execute(new ConvLayersBenchmark(), args);
    }

    @Override
    public Integer call() throws Exception {
        validate();
        WidthChoice.forResNetWidth(1.0); // before any cpu kernel runs: full-width layers
        int depth = Integer.parseInt(arch.substring("resnet".length()));
        int usedThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        List<Layer> layers;
        double[][][] ours = new double[rounds][][];   // (rounds, layers, 3) seconds per call
        double[][][] theirs = new double[comparePytorch ? rounds : 0][][];
        String description = null;
        try (Backend be = Backends.open("cpu", usedThreads, CpuTuning.DEFAULT)) {
            // Declared only: the geometries are all the listing needs, nothing is allocated.
            ResNet net = new ResNet(be, ResNetConfig.resnet(depth), new Parameters(DType.F32),
                    new Activations(DType.F32), "", batch, size, size);
            layers = ConvLayers.of(net.convs(), step.equals("densecl") ? 2 : 1);
            System.out.printf(Locale.ROOT, "conv layers of a %s %s step, batch %d, %dx%d: %d distinct of %d; backend"
                            + " cpu (vector, winograd, %d threads), %d warm-up + %d timed calls per pass, %d round%s%n",
                    arch, step, batch, size, size, layers.size(), net.convs().size(), usedThreads, warmup, reps, rounds,
                    rounds == 1 ? "" : "s");
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
                    List<String> lines = PytorchStep.lines(COMMAND, python,
                            PytorchStep.script(COMMAND, "conv_layers_bench.py").toString(), pytorchArgs(layers, usedThreads));
                    theirs[r] = parse(lines, layers.size());
                    description = lines.get(0);
                }
                System.out.printf(Locale.ROOT, "  round %d of %d done%n", r + 1, rounds);
            }
        }
        ConvLayersTable.print(layers, ours, theirs, description);
        return 0;
    }

    private void validate() {
        if (!arch.matches("resnet(18|34|50|101|152)")) {
            throw new IllegalArgumentException(COMMAND + ": --arch " + arch + " is not one of resnet18, resnet34,"
                    + " resnet50, resnet101, resnet152");
        }
        if (!step.equals("resnet") && !step.equals("densecl")) {
            throw new IllegalArgumentException(COMMAND + ": --step " + step + " is not resnet or densecl");
        }
        if (!memoryFormat.equals("channels_last") && !memoryFormat.equals("contiguous")) {
            throw new IllegalArgumentException(COMMAND + ": --pytorch-memory-format " + memoryFormat
                    + " is not channels_last or contiguous");
        }
        if (batch < 1 || size < 32 || threads < 0 || warmup < 0 || reps < 1 || rounds < 1) {
            throw new IllegalArgumentException(COMMAND + ": need --batch >= 1, --size >= 32, --threads >= 0,"
                    + " --warmup >= 0, --reps >= 1 and --rounds >= 1, got " + batch + ", " + size + ", " + threads
                    + ", " + warmup + ", " + reps + ", " + rounds);
        }
    }

    private List<String> pytorchArgs(List<Layer> layers, int usedThreads) {
        List<String> specs = new ArrayList<>();
        for (Layer l : layers) {
            specs.add(ConvLayers.pytorchSpec(l));
        }
        return List.of("--layers", String.join(";", specs), "--warmup", String.valueOf(warmup), "--reps",
                String.valueOf(reps), "--threads", String.valueOf(usedThreads), "--memory-format", memoryFormat);
    }

    /** The "LAYER i forward data filter" lines of the PyTorch twin, as (layers, 3) seconds per call. */
    static double[][] parse(List<String> lines, int layers) {
        double[][] seconds = new double[layers][];
        for (String line : lines) {
            if (!line.startsWith("LAYER ")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            int i = Integer.parseInt(f[1]);
            if (f.length != 5 || i < 0 || i >= layers) {
                throw new IllegalStateException(COMMAND + ": unexpected line from conv_layers_bench.py: " + line);
            }
            seconds[i] = new double[] {Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4])};
        }
        for (int i = 0; i < layers; i++) {
            if (seconds[i] == null) {
                throw new IllegalStateException(COMMAND + ": conv_layers_bench.py reported no time for layer " + i
                        + " of " + layers);
            }
        }
        return seconds;
    }
}
