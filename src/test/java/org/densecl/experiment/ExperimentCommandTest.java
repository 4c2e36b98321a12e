package org.densecl.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.densecl.densecl.PretrainVerdict;
import org.densecl.seg.FinetuneCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./densecl experiment} end to end at toy size ({@link ExperimentFixture}): the outputs, results.json's
 * schema and its agreement with every run's metrics.json and log, the report's table; then the ways an
 * experiment continues: a run whose metrics.json is gone is re-scored without training anything else, a run
 * killed mid-way (--stop-at) resumes to the same bytes, the data-efficiency mode reuses the finished runs of
 * its headline size, and a changed config is refused instead of mixed in.
 */
class ExperimentCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void runsReportsAndContinuesWhereItStopped() throws Exception {
        Path cfg = ExperimentFixture.config(tmp), out = tmp.resolve("out");

        // A collapsed pretraining stops the experiment unless --allow-collapsed; an alive one goes straight on.
        boolean stopped = false;
        ExperimentFixture.Outcome first = null;
        try {
            first = ExperimentFixture.run(cfg, out);
        } catch (IllegalStateException e) {
            stopped = true;
            assertTrue(e.getMessage().contains("COLLAPSED") && e.getMessage().contains("--allow-collapsed"), e.getMessage());
        }
        PretrainVerdict verdict = PretrainVerdict.read(out.resolve("pretrain/summary.json"));
        assertEquals(!verdict.alive(), stopped, "the experiment must stop exactly when the pretraining collapsed");
        if (stopped) {
            first = ExperimentFixture.run(cfg, out, "--allow-collapsed");
            assertTrue(first.console().contains("pretraining: finished earlier"), "the pretraining was redone");
        }
        assertTrue(first.reported());
        String finalLine = String.format(Locale.ROOT, "%d labeled images, test mIoU over %d trial(s): DenseCL",
                ExperimentFixture.TRAIN_LIMIT, ExperimentFixture.TRIALS);
        assertTrue(first.console().contains(finalLine), "no summary line '" + finalLine + "' in:\n" + first.console());
        assertTrue(first.console().contains("[5/5] kaiming trial 1"), "no progress line of the last run");

        for (String f : List.of("report.md", "results.json", "timings.json", "pretrain/summary.json",
                "pretrain/backbone.safetensors", "pretrain/console.log")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), "experiment wrote no " + f);
        }
        for (String png : List.of("curves.png", "overlays.png", "tsne.png")) {
            BufferedImage img = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(img, png + " is not a readable PNG");
            assertTrue(img.getWidth() >= 300 && img.getHeight() >= 150, png + " is only " + img.getWidth() + "x"
                    + img.getHeight());
        }
        assertFalse(Files.exists(out.resolve("efficiency.png")), "efficiency.png needs several sizes");

        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        checkResults(results, out, verdict);
        checkReport(Files.readString(out.resolve("report.md")), results, verdict);

        // A run whose metrics.json went missing is scored again from its last checkpoint; nothing else is redone.
        byte[] resultsBefore = Files.readAllBytes(out.resolve("results.json"));
        Path k1 = out.resolve("kaiming/trial1");
        byte[] k1Metrics = Files.readAllBytes(k1.resolve("metrics.json"));
        List<String> k1Log = Files.readAllLines(k1.resolve("log.jsonl"));
        Map<Path, FileTime> kept = mtimes(out, "pretrain", "densecl/trial0", "kaiming/trial0", "densecl/trial1");
        Files.delete(k1.resolve("metrics.json"));
        ExperimentFixture.Outcome again = ExperimentFixture.run(cfg, out, "--allow-collapsed");
        assertTrue(again.reported());
        assertEquals(kept, mtimes(out, "pretrain", "densecl/trial0", "kaiming/trial0", "densecl/trial1"),
                "finished runs were touched");
        assertEquals(3, count(again.console(), ": finished earlier (test mIoU"), again.console());
        assertArrayEquals(k1Metrics, Files.readAllBytes(k1.resolve("metrics.json")), "re-scored metrics.json differs");
        assertArrayEquals(resultsBefore, Files.readAllBytes(out.resolve("results.json")), "results.json changed");

        // Killed mid-run (--stop-at 4, between checkpoints at 2 and 4 ... 6): the next invocation resumes exactly.
        deleteTree(k1);
        ExperimentFixture.Outcome cut = ExperimentFixture.run(cfg, out, "--allow-collapsed", "--stop-at", "4");
        assertFalse(cut.reported(), "--stop-at 4 must end the invocation before the report");
        assertEquals(4, FinetuneCheckpoint.read(k1.resolve("last.safetensors")).iteration());
        assertFalse(Files.exists(k1.resolve("metrics.json")));
        ExperimentFixture.Outcome resumed = ExperimentFixture.run(cfg, out, "--allow-collapsed");
        assertTrue(resumed.console().contains("resuming from last.safetensors"), resumed.console());
        assertEquals(k1Log, Files.readAllLines(k1.resolve("log.jsonl")), "stop at 4 + resume: log differs");
        assertArrayEquals(k1Metrics, Files.readAllBytes(k1.resolve("metrics.json")), "stop at 4 + resume: metrics differ");
        assertArrayEquals(resultsBefore, Files.readAllBytes(out.resolve("results.json")), "stop + resume: results differ");

        // Data efficiency: size 8's runs are reused, size 4's run in ARM/n4/trialT, and a table and chart appear.
        Map<Path, FileTime> size8 = mtimes(out, "densecl/trial0", "kaiming/trial0", "densecl/trial1", "kaiming/trial1");
        ExperimentFixture.Outcome sizes = ExperimentFixture.run(cfg, out, "--allow-collapsed", "--sizes", "4,8");
        assertTrue(sizes.reported());
        assertEquals(size8, mtimes(out, "densecl/trial0", "kaiming/trial0", "densecl/trial1", "kaiming/trial1"),
                "the size-8 runs were redone");
        assertTrue(Files.isRegularFile(out.resolve("densecl/n4/trial1/metrics.json")));
        assertNotNull(ImageIO.read(out.resolve("efficiency.png").toFile()), "efficiency.png");
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("## Data efficiency") && report.contains("\n| 4 | ") && report.contains("\n| 8 | "),
                report);
        JsonNode r2 = JSON.readTree(out.resolve("results.json").toFile());
        assertEquals(8, r2.get("runs").size());
        Set<String> small = names(run(r2, "densecl", 4, 0).get("train_subset"));
        Set<String> large = names(run(r2, "densecl", 8, 0).get("train_subset"));
        assertEquals(4, small.size());
        assertTrue(large.containsAll(small), "a seed's 4-image subset lies inside its 8-image subset");

        // Another recipe into the same folder is refused, naming the run and the line that differs; so is a labeled
        // folder simulated with another acquisition.
        Path other = tmp.resolve("other.yaml");
        Files.writeString(other, Files.readString(cfg).replace("optim.iterations=6", "optim.iterations=8"));
        IllegalStateException changed = assertThrows(IllegalStateException.class,
                () -> ExperimentFixture.run(other, out, "--allow-collapsed"));
        assertTrue(changed.getMessage().contains("densecl") && changed.getMessage().contains("iterations: 8"),
                changed.getMessage());
        IllegalArgumentException shifted = assertThrows(IllegalArgumentException.class, () -> ExperimentFixture.run(cfg,
                out, "--allow-collapsed", "--set", "labeled.acquisitionShift=[\"probe.frequencyMhz=[5, 7]\"]"));
        assertTrue(shifted.getMessage().contains("another simulation"), shifted.getMessage());
    }

    /** results.json: the schema, and every number equal to the run's own metrics.json and log.jsonl. */
    private static void checkResults(JsonNode results, Path out, PretrainVerdict verdict) throws Exception {
        assertEquals(verdict.alive() ? "alive" : "collapsed", results.at("/pretrain/summary/verdict").asText());
        JsonNode runs = results.get("runs");
        assertEquals(2 * ExperimentFixture.TRIALS, runs.size(), "one record per arm and trial");
        Map<String, List<Double>> miou = new LinkedHashMap<>();
        for (JsonNode r : runs) {
            List<String> keys = new ArrayList<>();
            r.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("arm", "trial", "seed", "size", "train_images", "folder", "miou", "mdice", "acc", "iou",
                    "dice", "iterations", "best_val_miou", "best_val_iteration", "curve", "train_subset"), keys);
            String arm = r.get("arm").asText();
            int trial = r.get("trial").asInt();
            assertTrue(arm.equals("densecl") || arm.equals("kaiming"), arm);
            assertEquals(arm + "/trial" + trial, r.get("folder").asText());
            assertEquals(trial, r.get("seed").asInt(), "trial t runs with seed t");
            JsonNode m = JSON.readTree(out.resolve(r.get("folder").asText()).resolve("metrics.json").toFile());
            assertEquals(m.get("miou").asDouble(), r.get("miou").asDouble(), 0, "miou of " + arm + " " + trial);
            assertEquals(m.get("dice").asDouble(), r.get("mdice").asDouble(), 0);
            assertEquals(m.get("acc").asDouble(), r.get("acc").asDouble(), 0);
            assertEquals(m.get("iou"), r.get("iou"), "per-class IoU");
            assertEquals(m.get("dice_per_class"), r.get("dice"), "per-class Dice");
            assertEquals(ExperimentFixture.ITERATIONS, r.get("iterations").asLong());
            assertEquals(m.get("best_val_miou").asDouble(), r.get("best_val_miou").asDouble(), 0);
            List<String> val = new ArrayList<>();
            for (String line : Files.readAllLines(out.resolve(r.get("folder").asText()).resolve("log.jsonl"))) {
                JsonNode l = JSON.readTree(line);
                if (l.has("val_miou")) {
                    val.add(l.get("iteration").asLong() + ":" + l.get("val_miou").asDouble());
                }
            }
            List<String> curve = new ArrayList<>();
            r.get("curve").forEach(p -> curve.add(p.get("iteration").asLong() + ":" + p.get("val_miou").asDouble()));
            assertEquals(val, curve, "curve of " + arm + " " + trial);
            assertEquals(List.of(ExperimentFixture.EVAL_EVERY + ":" + val.get(0).split(":")[1],
                    ExperimentFixture.ITERATIONS + ":" + val.get(1).split(":")[1]), curve, "validations at 3 and 6");
            assertEquals(ExperimentFixture.TRAIN_LIMIT, r.get("train_subset").size());
            miou.computeIfAbsent(arm, a -> new ArrayList<>()).add(r.get("miou").asDouble());
        }
        for (int t = 0; t < ExperimentFixture.TRIALS; t++) {
            assertEquals(run(results, "densecl", 8, t).get("train_subset"), run(results, "kaiming", 8, t).get("train_subset"),
                    "both arms of trial " + t + " use one labeled subset");
        }
        assertNotEquals(run(results, "densecl", 8, 0).get("train_subset"), run(results, "densecl", 8, 1).get("train_subset"),
                "each trial draws its own labeled subset");
        JsonNode s = results.at("/summary/0/miou");
        double d = miou.get("densecl").stream().mapToDouble(x -> x).average().orElseThrow();
        double k = miou.get("kaiming").stream().mapToDouble(x -> x).average().orElseThrow();
        assertEquals(d, s.at("/densecl/mean").asDouble(), 1e-9);
        assertEquals(k, s.at("/kaiming/mean").asDouble(), 1e-9);
        assertEquals(d - k, s.get("gap").asDouble(), 1e-9);
    }

    /** report.md: the verdict, and the table with each trial's and the mean's numbers as results.json has them. */
    private static void checkReport(String md, JsonNode results, PretrainVerdict verdict) {
        assertTrue(md.contains(verdict.alive() ? "global head ALIVE" : "WARNING: THE PRETRAINING COLLAPSED"), md);
        assertTrue(md.contains("| trial | DenseCL mIoU | Kaiming mIoU | gap |"), md);
        for (int t = 0; t < ExperimentFixture.TRIALS; t++) {
            String row = String.format(Locale.ROOT, "| %d | %.1f | %.1f |", t, run(results, "densecl", 8, t).get("miou")
                    .asDouble(), run(results, "kaiming", 8, t).get("miou").asDouble());
            assertTrue(md.contains(row), "report.md has no row '" + row + "':\n" + md);
        }
        String mean = String.format(Locale.ROOT, "| **mean** | **%.1f** | **%.1f** |",
                results.at("/summary/0/miou/densecl/mean").asDouble(), results.at("/summary/0/miou/kaiming/mean").asDouble());
        assertTrue(md.contains(mean), "report.md has no row '" + mean + "'");
        for (String s : List.of("![validation mIoU curves](curves.png)", "![overlays](overlays.png)", "![t-SNE](tsne.png)",
                "probe.frequencyMhz=[6, 9]", "floats per vector", "wall time")) {
            assertTrue(md.contains(s), "report.md lacks '" + s + "'");
        }
    }

    private static JsonNode run(JsonNode results, String arm, int size, int trial) {
        for (JsonNode r : results.get("runs")) {
            if (r.get("arm").asText().equals(arm) && r.get("size").asInt() == size && r.get("trial").asInt() == trial) {
                return r;
            }
        }
        throw new AssertionError("results.json has no " + arm + " run of size " + size + " trial " + trial);
    }

    private static Set<String> names(JsonNode arr) {
        Set<String> out = new HashSet<>();
        arr.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Modification times of every file under the given folders of {@code out}. */
    private static Map<Path, FileTime> mtimes(Path out, String... dirs) throws Exception {
        Map<Path, FileTime> m = new LinkedHashMap<>();
        for (String d : dirs) {
            try (Stream<Path> files = Files.walk(out.resolve(d))) {
                for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                    m.put(p, Files.getLastModifiedTime(p));
                }
            }
        }
        return m;
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
