package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.densecl.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./densecl finetune} end to end at toy size ({@link FinetuneFixture}): the outputs and their fields,
 * the poly schedule in the log, validation on the configured iterations, metrics.json consistent with itself
 * and the log, and an interrupted run (stopped between checkpoints, its log written past the checkpoint as
 * a crash would leave it) that resumes to the same bytes as an uninterrupted one.
 */
class FinetuneCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void trainsValidatesAndResumesExactly() throws Exception {
        Path data = tmp.resolve("data"), a = tmp.resolve("a"), b = tmp.resolve("b");
        FinetuneFixture.finetune(data, a, "kaiming");
        for (String f : List.of("config.yaml", "log.jsonl", "last.safetensors", "best.safetensors", "metrics.json")) {
            assertTrue(Files.isRegularFile(a.resolve(f)), "finetune wrote no " + f);
        }
        for (String png : List.of("curve.png", "loss.png")) {
            assertTrue(Files.size(a.resolve(png)) > 1000, "finetune wrote no " + png);
        }

        List<String> log = Files.readAllLines(a.resolve("log.jsonl"));
        assertEquals(FinetuneFixture.ITERATIONS, log.size(), "log.jsonl: one record per iteration");
        double bestVal = Double.NaN;
        long bestIt = 0;
        for (int i = 0; i < log.size(); i++) {
            long it = i + 1;
            boolean validation = it % FinetuneFixture.EVAL_EVERY == 0;
            assertTrue(log.get(i).matches("\\{\"iteration\":" + it + ",\"loss\":[0-9.]+,\"loss_decode\":[0-9.]+,"
                    + "\"loss_aux\":[0-9.]+,\"lr\":[0-9.e-]+" + (validation ? ",\"val_miou\":[0-9.]+,\"val_dice\":[0-9.]+,"
                    + "\"val_acc\":[0-9.]+" : "") + "}"), "log record " + it + (validation ? " (validation)" : "") + ": "
                    + log.get(i));
            JsonNode r = JSON.readTree(log.get(i));
            // mmseg's poly per iteration (spec 4.4): (0.01 - 1e-4) (1 - t/T)^0.9 + 1e-4 for the 0-based iteration t
            double poly = (0.01 - 1e-4) * Math.pow(1 - (double) (it - 1) / FinetuneFixture.ITERATIONS, 0.9) + 1e-4;
            assertEquals(Double.parseDouble(String.format(Locale.ROOT, "%.6g", (float) poly)), r.get("lr").asDouble(),
                    "lr of iteration " + it);
            assertEquals(r.get("loss_decode").asDouble() + 0.4 * r.get("loss_aux").asDouble(), r.get("loss").asDouble(),
                    2e-6, "loss = decode + 0.4 aux at iteration " + it);
            if (validation && (Double.isNaN(bestVal) || r.get("val_miou").asDouble() > bestVal)) {
                bestVal = r.get("val_miou").asDouble();
                bestIt = it;
            }
        }

        JsonNode m = JSON.readTree(a.resolve("metrics.json").toFile());
        assertEquals(FinetuneFixture.ITERATIONS, m.get("iterations").asLong());
        assertEquals("kaiming", m.get("init").asText());
        assertEquals(2, m.get("iou").size(), "metrics.json: one IoU per class");
        assertEquals(2, m.get("dice_per_class").size(), "metrics.json: one Dice per class");
        double sum = 0;
        int present = 0;
        for (JsonNode v : m.get("iou")) {
            sum += v.isNull() ? 0 : v.asDouble();
            present += v.isNull() ? 0 : 1;
        }
        assertEquals(sum / present, m.get("miou").asDouble(), 1e-9, "metrics.json: miou is the mean of iou");
        assertTrue(m.get("acc").asDouble() > 0 && m.get("acc").asDouble() <= 100, "metrics.json acc in percent");
        assertEquals(bestVal, m.get("best_val_miou").asDouble(), 1e-4, "best val mIoU: the log's best");
        assertEquals(bestIt, m.get("best_val_iteration").asLong());
        try (SafeTensors best = SafeTensors.open(a.resolve("best.safetensors"))) {
            assertEquals(Long.toString(bestIt), best.metadata("iteration"), "best.safetensors is from the best iteration");
            assertTrue(best.names().stream().noneMatch(n -> n.startsWith("optimizer.")), "best.safetensors: weights only");
        }

        // Interrupted at 7 (a checkpoint at 4 and at the stop), a crash's extra record, then --resume.
        FinetuneFixture.finetune(data, b, "kaiming", "--stop-at", "7");
        assertFalse(Files.exists(b.resolve("metrics.json")), "--stop-at 7: no metrics before the run ends");
        assertEquals("7", FinetuneCheckpoint.read(b.resolve("last.safetensors")).iteration() + "");
        Files.writeString(b.resolve("log.jsonl"), "{\"iteration\":8,\"loss\":9.0}\n", StandardOpenOption.APPEND);
        IllegalArgumentException changed = assertThrows(IllegalArgumentException.class,
                () -> FinetuneFixture.finetune(data, b, "kaiming", "--resume", "--set", "optim.lr=0.02"));
        assertTrue(changed.getMessage().contains("optim"), changed.getMessage());
        FinetuneFixture.finetune(data, b, "kaiming", "--resume");
        assertEquals(log, Files.readAllLines(b.resolve("log.jsonl")), "stop at 7 + resume: log differs");
        for (String f : List.of("last.safetensors", "best.safetensors", "metrics.json")) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)),
                    "stop at 7 + resume: " + f + " differs from the uninterrupted run's");
        }
    }

    @Test
    void committedConfigsParse() {
        FinetuneConfig quick = FinetuneConfig.load(Path.of("configs/finetune_quick.yaml"), List.of());
        assertEquals(List.of(128, 128), quick.augmentation().crop(), "quick: 128x128 crops");
        assertEquals(1, quick.augmentation().channels(), "quick: the augmentation makes model.inChannels channels");
        assertEquals(64, quick.model().segmentation().decodeHead().channels(), "quick: heads scaled with the width");
        FinetuneConfig paper = FinetuneConfig.load(Path.of("configs/finetune_paper.yaml"), List.of());
        List<Object> expected = List.of(0.01, 0.9, 5e-4, 0.9, 1e-4, 40000L, 512, 16, 4000, 1.0);
        List<Object> got = new ArrayList<>(List.of(paper.optim().lr(), paper.optim().momentum(), paper.optim().weightDecay(),
                paper.optim().power(), paper.optim().minLr(), paper.optim().iterations(), paper.data().crop(),
                paper.data().batch(), paper.eval().every(), paper.model().widthMultiplier()));
        assertEquals(expected, got, "paper: spec 4.4's SGD and poly, 512 crops, batch 16, 40k iterations, eval every"
                + " 4000, full width");
        assertEquals(512, paper.model().segmentation().decodeHead().channels(), "paper: mmseg's decode head width");
    }
}
