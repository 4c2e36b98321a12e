package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.data.io.ImageDecoder;
import org.densecl.data.io.SegDataset;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.seg.eval.ConfusionMatrix;
import org.densecl.seg.eval.SegMetrics;
import org.densecl.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./densecl evaluate} rebuilds the model from a checkpoint's metadata alone and scores exactly what the
 * run scored: last.safetensors on the test split gives metrics.json's numbers bit for bit, best.safetensors on
 * the val split its best validation mIoU; the masks it saves score the same against the labels; a file that
 * is not a fine-tuning checkpoint is refused by name.
 */
class EvaluateCommandTest {
    @TempDir
    Path tmp;

    @Test
    void reproducesTheRunsMetricsAndSavesThePredictions() throws Exception {
        Path data = tmp.resolve("data"), run = tmp.resolve("run"), masks = tmp.resolve("pred");
        FinetuneFixture.finetune(data, run, "kaiming");
        JsonNode metrics = new ObjectMapper().readTree(run.resolve("metrics.json").toFile());

        SegMetrics test = FinetuneFixture.evaluate("--checkpoint", run.resolve("last.safetensors").toString(), "--data",
                data.toString(), "--save-predictions", masks.toString());
        assertEquals(metrics.get("miou").asDouble(), test.mIoU(), 0.0, "evaluate last on test: mIoU != metrics.json's");
        assertEquals(metrics.get("dice").asDouble(), test.mDice(), 0.0, "evaluate last on test: mDice");
        assertEquals(metrics.get("acc").asDouble(), test.aAcc(), 0.0, "evaluate last on test: aAcc");
        assertEquals(metrics.get("iou").get(0).asDouble(), test.iou()[0], 0.0, "evaluate last on test: background IoU");

        SegMetrics val = FinetuneFixture.evaluate("--checkpoint", run.resolve("best.safetensors").toString(), "--data",
                data.toString(), "--split", "val");
        assertEquals(metrics.get("best_val_miou").asDouble(), val.mIoU(), 0.0, "evaluate best on val: the best val mIoU");

        SegDataset set = FinetuneData.split(data, "test", 2);
        ConfusionMatrix cm = new ConfusionMatrix(2);
        for (int i = 0; i < set.size(); i++) {
            Path png = masks.resolve(set.sample(i).name() + ".png");
            assertTrue(Files.isRegularFile(png), "no predicted mask " + png);
            int[] label = new int[set.load(i).labels().labels().length];
            byte[] l = set.load(i).labels().labels();
            for (int p = 0; p < l.length; p++) {
                label[p] = l[p] & 0xff;
            }
            cm.add(ImageDecoder.readValues(png).values(), label);
        }
        assertEquals(test.mIoU(), cm.metrics().mIoU(), 0.0, "the saved masks score another mIoU");
        assertArrayEquals(test.iou(), cm.metrics().iou(), 0.0, "the saved masks score other per-class IoUs");
    }

    @Test
    void refusesAFileThatIsNotAFinetuneCheckpoint() {
        Path backbone = tmp.resolve("backbone.safetensors");
        try (Backend be = new RefBackend()) {
            ResNet net = ResNet.create(be, FinetuneConfig.load(Path.of("configs/finetune_quick.yaml"), java.util.List.of())
                    .model().segmentation().backbone().withWidthMultiplier(1.0 / 16), DType.F32, 1, 32, 32);
            StateDict.save(backbone, net.parameters(), be, Map.of("source", "test"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FinetuneFixture.evaluate(
                "--checkpoint", backbone.toString(), "--data", tmp.toString()));
        assertTrue(e.getMessage().contains("is not a fine-tuning checkpoint"), e.getMessage());
    }
}
