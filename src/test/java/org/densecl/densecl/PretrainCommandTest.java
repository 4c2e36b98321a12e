package org.densecl.densecl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.cli.PretrainCommand;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ./densecl pretrain} end to end at toy size (16 simulated 64x64 images, width 1/16, batch 4, 4
 * steps): outputs exist and parse, the exported backbone loads STRICTLY into a torchvision-named ResNet, an
 * interrupted-and-resumed run writes the same bytes as an uninterrupted one, and config errors name the key
 * and file.
 */
class PretrainCommandTest {
    @TempDir
    Path tmp;

    private int run(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("--config", "configs/densecl_quick.yaml", "--output", out.toString(),
                "--set", "data.root=" + tmp.resolve("data"), "--set", "data.simulateCount=16",
                "--set", "data.simulateSize=64", "--set", "data.batch=4", "--set", "densecl.queueSize=16",
                "--set", "model.widthMultiplier=0.0625", "--set", "model.hidden=32", "--set", "model.dim=8",
                "--set", "optim.epochs=1", "--set", "run.logEvery=1", "--set", "run.checkpointEvery=3",
                "--set", "run.threads=1"));
        args.addAll(List.of(extra));
        return new CommandLine(new PretrainCommand()).execute(args.toArray(String[]::new));
    }

    @Test
    void trainsExportsAndResumesExactly() throws IOException {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        assertEquals(0, run(a));
        List<String> log = Files.readAllLines(a.resolve("log.jsonl"));
        assertEquals(4, log.size(), "pretrain log.jsonl: one record per step of 16 / 4 = 4 steps");
        for (String line : log) {
            assertTrue(line.matches("\\{\"step\":\\d+,\"loss\":[0-9.]+,\"loss_global\":[0-9.]+,\"loss_dense\":[0-9.]+,"
                    + "\"lr\":[0-9.e-]+,\"q_std\":[0-9.]+,\"sim_pos\":-?[0-9.]+,\"sim_neg\":-?[0-9.]+,"
                    + "\"dead_hidden\":[0-9.]+}"), "pretrain log record: " + line);
        }
        try (Backend be = new RefBackend()) {
            PretrainConfig cfg = PretrainConfig.load(Path.of("configs/densecl_quick.yaml"),
                    List.of("model.widthMultiplier=0.0625"));
            ResNet net = ResNet.create(be, cfg.model().resnet(), DType.F32, 1, 64, 64);
            StateDict.load(a.resolve("backbone.safetensors"), net.parameters(), be, true); // strict: every key
        }
        for (String png : List.of("loss.png", "embedding.png")) {
            assertTrue(Files.size(a.resolve(png)) > 1000, "pretrain wrote no " + png);
        }
        PretrainVerdict v = PretrainVerdict.read(a.resolve("summary.json"));
        assertEquals(4, v.steps(), "summary.json: the verdict covers the run's 4 steps");
        assertEquals(PretrainVerdict.of(a.resolve("log.jsonl"), PretrainVerdict.Limits.DEFAULT), v,
                "summary.json: the verdict read back differs from the log's");
        assertEquals(0, run(b, "--stop-at", "2"));
        assertTrue(!Files.exists(b.resolve("summary.json")), "pretrain --stop-at 2: no verdict before the run ends");
        assertTrue(Files.exists(b.resolve("checkpoint.safetensors")) && !Files.exists(b.resolve("backbone.safetensors")),
                "pretrain --stop-at 2: a checkpoint and no backbone yet");
        assertEquals(0, run(b, "--resume"));
        assertArrayEquals(Files.readAllBytes(a.resolve("backbone.safetensors")),
                Files.readAllBytes(b.resolve("backbone.safetensors")), "pretrain: stop at 2 + resume != uninterrupted run");
        assertEquals(log, Files.readAllLines(b.resolve("log.jsonl")), "pretrain: resumed log differs");
    }

    @Test
    void unknownConfigKeyNamesKeyAndFile() throws IOException {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(Path.of("configs/densecl_quick.yaml"))
                .replace("  dim: 128", "  dim: 128\n  dimm: 64"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> PretrainConfig.load(bad, List.of()));
        assertTrue(e.getMessage().contains("dimm") && e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void committedConfigsParse() {
        for (String f : List.of("configs/densecl_quick.yaml", "configs/densecl_r50_knee_paper.yaml")) {
            PretrainConfig c = PretrainConfig.load(Path.of(f), List.of());
            assertEquals(0, c.densecl().queueSize() % c.data().batch(), f + ": queue size must be a multiple of the batch");
        }
        PretrainConfig p = PretrainConfig.load(Path.of("configs/densecl_r50_knee_paper.yaml"), List.of());
        assertEquals(0.03 * 32 / 256, p.optim().lr(), 1e-12, "paper config: linear lr scaling 0.03 * 32 / 256");
    }
}
