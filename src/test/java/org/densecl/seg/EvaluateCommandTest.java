package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.data.YamlConfig;
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
 * the val split its best validation mIoU; the masks it saves score the same against the labels; a run
 * validated and tested in slide mode is reproduced by evaluate in the checkpoint's mode, and --mode, --crop and
 * --stride override it; a file that is not a fine-tuning checkpoint is refused by name.
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
    void slideInferenceInFinetuneAndEvaluate() throws Exception {
        // 64x64 images, 40x40 windows every 24 pixels: (64 - 40 + 23) / 24 + 1 = 2 per dimension, [0, 40) and
        // [24, 64), so the middle 16 rows and columns are averaged over 2 or 4 windows
        Path data = tmp.resolve("data"), run = tmp.resolve("run"), slideMasks = tmp.resolve("slide"),
                wholeMasks = tmp.resolve("whole");
        // two iterations at a negligible lr leave the model near its random init, whose classes vary across each
        // image (the toy run's 12 iterations predict background everywhere, where every mode scores the same)
        FinetuneFixture.finetune(data, run, "kaiming", "--set", "eval.mode=slide", "--set", "eval.crop=[40, 40]",
                "--set", "eval.stride=[24, 24]", "--set", "optim.iterations=2", "--set", "eval.every=1", "--set",
                "optim.lr=1.0e-6", "--set", "optim.minLr=0");
        JsonNode metrics = new ObjectMapper().readTree(run.resolve("metrics.json").toFile());
        String last = run.resolve("last.safetensors").toString();

        // the checkpoint's eval section is slide: evaluate without --mode reproduces the run's test metrics,
        // which holds only if finetune's own test evaluation was slide too
        SegMetrics saved = FinetuneFixture.evaluate("--checkpoint", last, "--data", data.toString(),
                "--save-predictions", slideMasks.toString());
        assertEquals(metrics.get("miou").asDouble(), saved.mIoU(), 0.0, "evaluate (the checkpoint's slide) vs metrics.json");
        SegMetrics slide = FinetuneFixture.evaluate("--checkpoint", last, "--data", data.toString(), "--mode", "slide",
                "--crop", "40,40", "--stride", "24,24");
        assertEquals(saved.mIoU(), slide.mIoU(), 0.0, "--mode slide --crop 40,40 --stride 24,24 = the checkpoint's");
        assertArrayEquals(saved.iou(), slide.iou(), 0.0);

        FinetuneFixture.evaluate("--checkpoint", last, "--data", data.toString(), "--mode", "whole",
                "--save-predictions", wholeMasks.toString());
        SegDataset set = FinetuneData.split(data, "test", 2);
        boolean differ = false;
        Set<Integer> classes = new HashSet<>();
        for (int i = 0; i < set.size(); i++) {
            String name = set.sample(i).name() + ".png";
            int[] a = ImageDecoder.readValues(slideMasks.resolve(name)).values();
            differ |= !Arrays.equals(a, ImageDecoder.readValues(wholeMasks.resolve(name)).values());
            Arrays.stream(a).forEach(classes::add);
        }
        assertEquals(2, classes.size(), "slide predicted one class everywhere: the modes could not be told apart");
        assertTrue(differ, "slide and whole predicted the same masks: the --mode override or the windows do nothing");

        // a crop covering the 64x64 images is one window per image: whole inference's numbers
        SegMetrics whole = FinetuneFixture.evaluate("--checkpoint", last, "--data", data.toString(), "--mode", "whole");
        SegMetrics oneWindow = FinetuneFixture.evaluate("--checkpoint", last, "--data", data.toString(), "--crop",
                "64,80", "--stride", "64,80");
        assertEquals(whole.mIoU(), oneWindow.mIoU(), 0.0, "slide with a crop covering the image != whole");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FinetuneFixture.evaluate(
                "--checkpoint", last, "--data", data.toString(), "--mode", "whole", "--crop", "32,32"));
        assertTrue(e.getMessage().contains("add --mode slide"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FinetuneFixture.evaluate("--checkpoint", last, "--data",
                data.toString(), "--crop", "20,20"));
        assertTrue(e.getMessage().contains("eval.stride must be"), e.getMessage());
    }

    @Test
    void opensACheckpointFromBeforeSlideInference() throws Exception {
        // checkpoints written before eval.crop and eval.stride existed carry an eval section {every, mode: whole}
        FinetuneConfig cfg = FinetuneFixture.config(tmp.resolve("data"));
        ObjectNode legacy = (ObjectNode) new ObjectMapper().readTree(YamlConfig.json(cfg));
        ((ObjectNode) legacy.get("eval")).remove(List.of("crop", "stride"));
        Path file = tmp.resolve("legacy.safetensors");
        try (Backend be = new RefBackend()) {
            SegmentationModel m = new SegmentationModel(be, cfg.model().segmentation(), DType.F32, 1, 32, 32, 2);
            m.initialize(0);
            FinetuneCheckpoint.saveWeights(file, m, be, new FinetuneCheckpoint.State(6, 0, "kaiming", 50, 6,
                    legacy.toString(), YamlConfig.json(cfg.augmentation())));
        }
        FinetuneConfig.Eval eval = FinetunedModel.open(file).config().eval();
        assertEquals(new FinetuneConfig.Eval(FinetuneFixture.EVAL_EVERY, "whole", List.of(64, 64), List.of(64, 64)), eval,
                "a legacy eval section: whole, crop and stride filled with data.crop");
    }

    @Test
    void refusesAFileThatIsNotAFinetuneCheckpoint() {
        Path backbone = tmp.resolve("backbone.safetensors");
        try (Backend be = new RefBackend()) {
            ResNet net = ResNet.create(be, FinetuneConfig.load(Path.of("configs/finetune_quick.yaml"), List.of())
                    .model().segmentation().backbone().withWidthMultiplier(1.0 / 16), DType.F32, 1, 32, 32);
            StateDict.save(backbone, net.parameters(), be, Map.of("source", "test"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FinetuneFixture.evaluate(
                "--checkpoint", backbone.toString(), "--data", tmp.toString()));
        assertTrue(e.getMessage().contains("is not a fine-tuning checkpoint"), e.getMessage());
    }
}
