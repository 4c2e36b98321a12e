package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.densecl.data.Progress;
import org.densecl.data.sim.SimulatedFolder;
import org.densecl.data.sim.SimulationRun;
import org.densecl.data.sim.SimulatorConfig;
import org.densecl.experiment.ExperimentFixture;
import org.densecl.io.SafeTensors;
import org.densecl.seg.FinetuneFixture;
import org.densecl.testing.ChildCli;
import org.densecl.testing.ChildCli.Kill;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real interruptions: each command runs in a child JVM that is SIGKILLed at planned and seeded random moments
 * (in a simulation on first use, before the first checkpoint, inside a checkpoint write, between checkpoints,
 * after the last step), then the same command, with --resume from the first start on, is run again until it
 * finishes. Its outputs must be the bytes of an uninterrupted run of the same command. The reference runs first
 * in the same folder (then moved aside), because checkpoints and weights carry the config, paths included.
 * Each kill prints a "kill-resume" line saying what was on disk after it.
 */
class KillResumeTest {
    private static final String PRETRAIN_CONFIG = "configs/densecl_quick.yaml";
    private static final int PRETRAIN_STEPS = 16; // 32 images / batch 4 x 2 epochs

    @TempDir
    Path tmp;

    private final Random random = new Random(16);

    @Test
    void pretrainKilledFiveTimesEndsAsAnUninterruptedRun() throws Exception {
        Path data = tmp.resolve("run/data"), out = tmp.resolve("run/out");
        List<String> sets = List.of("data.root=" + data, "data.simulateCount=32", "data.simulateSize=64", "data.size=32",
                "data.batch=4", "densecl.queueSize=8", "model.widthMultiplier=0.0625", "model.hidden=32", "model.dim=8",
                "optim.epochs=2", "optim.warmupSteps=4", "run.logEvery=1", "run.checkpointEvery=4", "run.threads=1");
        PretrainCommand.pretrain(Path.of(PRETRAIN_CONFIG), sets, out, false, null);
        Path ref = moveAside("run");

        Path log = out.resolve("log.jsonl"), ckpt = out.resolve("checkpoint.safetensors");
        Path partial = data.resolveSibling("data.partial");
        Path console = tmp.resolve("pretrain-console.log");
        ChildCli cli = new ChildCli(console, command("pretrain", PRETRAIN_CONFIG, out, sets));
        List<String> kills = new ArrayList<>();
        kill(cli, kills, new Kill("while simulating the pool on first use", () -> ChildCli.pngs(partial) >= 2,
                random.nextInt(150)), () -> pretrainState(data, out));
        assertFalse(Files.exists(data), "a killed simulation left a folder named data.root");
        kill(cli, kills, new Kill("before the first checkpoint", () -> ChildCli.lines(log) >= 1 && !Files.exists(ckpt), 0),
                () -> pretrainState(data, out));
        kill(cli, kills, new Kill("inside a checkpoint write over an earlier one", () -> ChildCli.writing(out,
                "checkpoint.safetensors") && Files.exists(ckpt) || ChildCli.lines(log) >= 10, 0),
                () -> pretrainState(data, out));
        long k = ChildCli.lines(log) + 2 + random.nextInt(3);
        kill(cli, kills, new Kill("at step " + k + " (seeded)", () -> ChildCli.lines(log) >= k, random.nextInt(300)),
                () -> pretrainState(data, out));
        kill(cli, kills, new Kill("after the last step", () -> ChildCli.lines(log) >= PRETRAIN_STEPS, 0),
                () -> pretrainState(data, out));
        cli.finish();

        sameAsUninterrupted("pretrain: --resume: no checkpoint in " + out + " yet, nothing to resume: starting at step 0",
                console, kills, ref, data, out, List.of("backbone.safetensors", "log.jsonl", "checkpoint.safetensors",
                        "config.yaml"));
    }

    @Test
    void finetuneKilledFiveTimesEndsAsAnUninterruptedRun() throws Exception {
        Path data = tmp.resolve("run/data"), out = tmp.resolve("run/out");
        List<String> sets = new ArrayList<>(FinetuneFixture.overrides(data)); // at 32x32: half the time of 64x64
        sets.addAll(List.of("data.simulateSize=32", "data.crop=32", "data.scale=[128, 32]", "run.logEvery=1"));
        FinetuneCommand.finetune(Path.of("configs/finetune_quick.yaml"), sets, "kaiming", out, false, null);
        Path ref = moveAside("run");

        Path log = out.resolve("log.jsonl"), last = out.resolve("last.safetensors");
        Path partial = data.resolveSibling("data.partial");
        List<String> args = new ArrayList<>(command("finetune", "configs/finetune_quick.yaml", out, sets));
        args.addAll(List.of("--init", "kaiming"));
        Path console = tmp.resolve("finetune-console.log");
        ChildCli cli = new ChildCli(console, args);
        List<String> kills = new ArrayList<>();
        kill(cli, kills, new Kill("while simulating the labeled set on first use", () -> ChildCli.pngs(partial) >= 2,
                random.nextInt(100)), () -> finetuneState(data, out));
        assertFalse(Files.exists(data), "a killed simulation left a folder named data.root");
        kill(cli, kills, new Kill("before the first checkpoint", () -> Files.exists(log) && !Files.exists(last),
                random.nextInt(200)), () -> finetuneState(data, out));
        kill(cli, kills, new Kill("inside a checkpoint write over an earlier one", () -> ChildCli.writing(out,
                "last.safetensors") && Files.exists(last) || ChildCli.lines(log) >= 10, 0), () -> finetuneState(data, out));
        long k = Math.min(ChildCli.lines(log) + 1 + random.nextInt(2), FinetuneFixture.ITERATIONS - 1);
        kill(cli, kills, new Kill("at iteration " + k + " (seeded)", () -> ChildCli.lines(log) >= k, random.nextInt(300)),
                () -> finetuneState(data, out));
        kill(cli, kills, new Kill("after the last iteration", () -> ChildCli.lines(log)
                >= FinetuneFixture.ITERATIONS, 0), () -> finetuneState(data, out));
        cli.finish();

        sameAsUninterrupted("finetune: --resume: no checkpoint in " + out + " yet, nothing to resume: starting at"
                + " iteration 0", console, kills, ref, data, out, List.of("last.safetensors", "best.safetensors",
                "metrics.json", "log.jsonl"));
    }

    @Test
    void experimentKilledSixTimesEndsWithTheSameResults() throws Exception {
        Path dir = tmp.resolve("run"), out = dir.resolve("out");
        Files.createDirectories(dir);
        Path config = ExperimentFixture.config(dir);
        String[] extra = {"--allow-collapsed", "--set", "trials=1"};
        ExperimentFixture.run(config, out, extra);
        Path ref = moveAside("run");
        Files.createDirectories(dir);
        ExperimentFixture.config(dir);

        List<String> args = new ArrayList<>(List.of("experiment", "--config", config.toString(), "--output", out.toString(),
                "--resume"));
        args.addAll(List.of(extra));
        ChildCli cli = new ChildCli(tmp.resolve("experiment-console.log"), args);
        Path data = dir.resolve("data"), pretrain = out.resolve("pretrain");
        Path densecl = out.resolve("densecl/trial0"), kaiming = out.resolve("kaiming/trial0");
        List<String> kills = new ArrayList<>();
        kill(cli, kills, new Kill("while simulating the labeled set", () -> ChildCli.pngs(data.resolve("labeled.partial"))
                >= 2, 0), () -> experimentState(data, out));
        kill(cli, kills, new Kill("while simulating the pretraining pool", () -> ChildCli.pngs(data.resolve("pool.partial"))
                >= 1 || Files.exists(pretrain.resolve("log.jsonl")), 0), () -> experimentState(data, out));
        kill(cli, kills, new Kill("in the pretraining, past its first checkpoint", () -> Files.exists(
                pretrain.resolve("checkpoint.safetensors")), random.nextInt(300)), () -> experimentState(data, out));
        kill(cli, kills, new Kill("inside a fine-tuning checkpoint write", () -> ChildCli.writing(densecl,
                "last.safetensors") || ChildCli.lines(densecl.resolve("log.jsonl")) >= 3, 0), () -> experimentState(data, out));
        kill(cli, kills, new Kill("in the second fine-tuning (seeded delay)", () -> Files.exists(kaiming.resolve(
                "log.jsonl")), random.nextInt(400)), () -> experimentState(data, out));
        kill(cli, kills, new Kill("while drawing the report", () -> Files.exists(out.resolve("results.json")),
                random.nextInt(200)), () -> experimentState(data, out));
        cli.finish();

        assertTrue(kills.size() >= 3, "fewer than 3 kills landed: " + kills);
        Path refOut = ref.resolve("out");
        assertEquals(withoutTimes(refOut.resolve("results.json")), withoutTimes(out.resolve("results.json")),
                "results.json after " + kills + " differs from the uninterrupted run's");
        for (String f : List.of("pretrain/backbone.safetensors", "pretrain/log.jsonl", "densecl/trial0/last.safetensors",
                "densecl/trial0/metrics.json", "densecl/trial0/log.jsonl", "kaiming/trial0/last.safetensors",
                "kaiming/trial0/metrics.json", "kaiming/trial0/log.jsonl")) {
            assertArrayEquals(Files.readAllBytes(refOut.resolve(f)), Files.readAllBytes(out.resolve(f)),
                    f + " after " + kills + " differs from the uninterrupted run's");
        }
        assertTrue(Files.isRegularFile(out.resolve("report.md")) && Files.isRegularFile(out.resolve("tsne.png")));
        for (Path d : List.of(out, pretrain, densecl, kaiming)) {
            assertEquals(List.of(), temporaries(d), "temporaries of killed writes are left in " + d);
        }
    }

    @Test
    void simulateKilledThreeTimesEndsAsAnUninterruptedRun() throws Exception {
        Path out = tmp.resolve("run/sim");
        SimulatorConfig cfg = SimulatorConfig.load(Path.of(SimulatorConfig.DEFAULT_PATH), List.of());
        SimulationRun.run(cfg, SimulatorConfig.DEFAULT_PATH, new SimulationRun.Options(out, 400, 48, 3, true, 2),
                new Progress(new PrintStream(new ByteArrayOutputStream()), "simulate", 400, false));
        Path ref = moveAside("run");

        Path partial = out.resolveSibling("sim.partial");
        ChildCli cli = new ChildCli(tmp.resolve("simulate-console.log"), List.of("simulate", "--output", out.toString(),
                "--count", "400", "--size", "48", "--seed", "3", "--labeled", "--threads", "1"));
        List<String> kills = new ArrayList<>();
        long a = 5 + random.nextInt(40), b = 120 + random.nextInt(120), c = 300 + random.nextInt(60);
        kill(cli, kills, new Kill(a + " images in (seeded)", () -> ChildCli.pngs(partial) >= 2 * a, 0),
                () -> simulationState(out));
        assertFalse(Files.exists(out), "a killed simulation left a folder named --output");
        kill(cli, kills, new Kill(b + " images in (seeded)", () -> ChildCli.pngs(partial) >= 2 * b, 0),
                () -> simulationState(out));
        kill(cli, kills, new Kill(c + " images in (seeded)", () -> ChildCli.pngs(partial) >= 2 * c, 0),
                () -> simulationState(out));
        cli.finish();

        assertTrue(kills.size() >= 3, "fewer than 3 kills landed: " + kills);
        sameSimulation(ref.resolve("sim"), out);
    }

    /**
     * How a training command's kill test ends: 3 kills or more landed, the first start (--resume, nothing there)
     * said {@code firstStart}, the {@code files} of {@code out} and the simulated {@code data} are the reference's
     * bytes, and no temporary of a killed write is left.
     */
    private static void sameAsUninterrupted(String firstStart, Path console, List<String> kills, Path ref, Path data,
                                            Path out, List<String> files) throws IOException {
        assertTrue(kills.size() >= 3, "fewer than 3 kills landed: " + kills);
        assertTrue(Files.readString(console).contains(firstStart), "the first --resume must start afresh and say so ('"
                + firstStart + "'); see " + console);
        for (String f : files) {
            assertArrayEquals(Files.readAllBytes(ref.resolve("out").resolve(f)), Files.readAllBytes(out.resolve(f)),
                    f + " after " + kills + " differs from the uninterrupted run's");
        }
        sameSimulation(ref.resolve("data"), data);
        assertEquals(List.of(), temporaries(out), "temporaries of killed writes are left in " + out);
    }

    /** Kills the command at {@code at} and prints what survived; a command that ended first is not counted. */
    private static void kill(ChildCli cli, List<String> kills, Kill at, java.util.function.Supplier<String> state)
            throws InterruptedException {
        boolean landed = cli.killAt(at);
        System.out.println("kill-resume: " + (landed ? "killed " : "ended before the kill ") + at.name() + ": "
                + state.get());
        if (landed) {
            kills.add(at.name());
        }
    }

    /** The command line of a training command, with --resume from the first start on. */
    private static List<String> command(String name, String config, Path out, List<String> sets) {
        List<String> args = new ArrayList<>(List.of(name, "--config", config, "--output", out.toString(), "--resume"));
        for (String s : sets) {
            args.add("--set");
            args.add(s);
        }
        return args;
    }

    /** Moves tmp/{@code name} (the reference run) to tmp/ref, so the interrupted run can use the same paths. */
    private Path moveAside(String name) throws IOException {
        return Files.move(tmp.resolve(name), tmp.resolve("ref"));
    }

    private static String pretrainState(Path data, Path out) {
        return simulationState(data) + "; " + checkpointState(out.resolve("checkpoint.safetensors")) + ", log "
                + ChildCli.lines(out.resolve("log.jsonl")) + " records" + temporaryState(out)
                + (Files.exists(out.resolve("backbone.safetensors")) ? ", backbone written" : "");
    }

    private static String finetuneState(Path data, Path out) {
        return simulationState(data) + "; " + checkpointState(out.resolve("last.safetensors")) + ", log "
                + ChildCli.lines(out.resolve("log.jsonl")) + " records" + temporaryState(out)
                + (Files.exists(out.resolve("best.safetensors")) ? ", best.safetensors" : "")
                + (Files.exists(out.resolve("metrics.json")) ? ", metrics.json" : "");
    }

    private static String experimentState(Path data, Path out) {
        List<String> parts = new ArrayList<>(List.of(simulationState(data.resolve("labeled")),
                simulationState(data.resolve("pool"))));
        for (String run : List.of("pretrain", "densecl/trial0", "kaiming/trial0")) {
            Path dir = out.resolve(run);
            if (Files.isDirectory(dir)) {
                Path ckpt = dir.resolve(run.equals("pretrain") ? "checkpoint.safetensors" : "last.safetensors");
                parts.add(run + " " + checkpointState(ckpt) + temporaryState(dir)
                        + (Files.exists(dir.resolve(run.equals("pretrain") ? "summary.json" : "metrics.json"))
                        ? " (finished)" : ""));
            }
        }
        parts.add(Files.exists(out.resolve("results.json")) ? "results.json written" : "no results.json");
        parts.add(Files.exists(out.resolve("report.md")) ? "report.md written" : "no report.md");
        return String.join("; ", parts);
    }

    /** Whether the folder is absent, a staging folder with N images, or complete and consistent. */
    private static String simulationState(Path root) {
        Path partial = root.resolveSibling(root.getFileName() + ".partial");
        if (Files.exists(root)) {
            SimulatedFolder.verify(root); // a folder under the final name must be complete
            return root.getFileName() + " complete";
        }
        return Files.exists(partial) ? root.getFileName() + " absent, " + ChildCli.pngs(partial) + " PNGs staged"
                : root.getFileName() + " absent";
    }

    private static String checkpointState(Path file) {
        if (!Files.exists(file)) {
            return "no checkpoint";
        }
        try (SafeTensors sf = SafeTensors.open(file)) { // a checkpoint on disk must always open
            String step = sf.metadata().getOrDefault("step", sf.metadata().get("iteration"));
            return "checkpoint at " + step;
        }
    }

    private static String temporaryState(Path dir) {
        return temporaries(dir).isEmpty() ? "" : ", a temporary left (killed inside a write)";
    }

    private static List<Path> temporaries(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Two simulated folders hold the same files with the same bytes; the manifests differ only in "seconds". */
    private static void sameSimulation(Path expected, Path actual) throws IOException {
        List<Path> want = relativeFiles(expected), got = relativeFiles(actual);
        assertEquals(want, got, "the simulated folder holds other files than the uninterrupted simulation's");
        for (Path f : want) {
            if (f.toString().equals("manifest.json")) {
                assertEquals(withoutTimes(expected.resolve(f)), withoutTimes(actual.resolve(f)), "manifest.json differs");
            } else {
                assertArrayEquals(Files.readAllBytes(expected.resolve(f)), Files.readAllBytes(actual.resolve(f)),
                        f + " differs from the uninterrupted simulation's");
            }
        }
    }

    private static List<Path> relativeFiles(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
        }
    }

    /** A JSON file's text without its wall-time fields ("seconds", "seconds_this_invocation"): they are no result. */
    private static String withoutTimes(Path json) throws IOException {
        return Files.readString(json, StandardCharsets.UTF_8).replaceAll("\"seconds(_this_invocation)?\" ?: ?[0-9.]+,?", "");
    }
}
