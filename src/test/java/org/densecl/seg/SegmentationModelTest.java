package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.io.LoadReport;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SegmentationModel's structure, configuration, weight loading, dropout steps and assigned gradients. */
class SegmentationModelTest {

    @Test
    void fcnR50D8IsMmsegsConfigAndScalesWithWidth() {
        SegmentationConfig full = SegmentationConfig.fcnR50D8();
        assertEquals(8, full.backbone().outputStride());
        assertEquals(List.of(3, 4, 6, 3), full.backbone().blocks());
        assertEquals(2048, full.backbone().stageChannels(3));
        assertEquals(new FcnHeadConfig(512, 2, true, 0.1f), full.decodeHead());
        assertEquals(new FcnHeadConfig(256, 1, false, 0.1f), full.auxHead());
        assertEquals(0.4f, full.auxWeight());
        assertFalse(full.alignCorners());
        SegmentationConfig small = full.withWidthMultiplier(1.0 / 16);
        assertEquals(4, small.backbone().width());
        assertEquals(32, small.decodeHead().channels());
        assertEquals(16, small.auxHead().channels());
        assertThrows(IllegalArgumentException.class, () -> full.withBackbone(full.backbone().withClassifier(10)));
        assertThrows(IllegalArgumentException.class, () -> new FcnHeadConfig(8, 0, false, 0.1f));
    }

    /** Heads on C5 and C4 at 1/8 of the input; mmseg's whole-model keys; numClasses must leave 255 free. */
    @Test
    void headsSitOnC5AndC4WithMmsegKeys() {
        try (Backend be = new RefBackend()) {
            SegmentationConfig cfg = SegmentationGradCheckTest.tinyConfig(0.1f);
            SegmentationModel m = new SegmentationModel(be, cfg, DType.F32, 2, 36, 28, 5);
            assertEquals(Shape.of(2, 5, 4, 128), m.decodeHead().inputShape(), "C5 at output stride 8");
            assertEquals(Shape.of(2, 5, 4, 64), m.auxiliaryHead().inputShape(), "C4 at output stride 8");
            assertEquals(Shape.of(2, 5, 4, 5), m.decodeHead().logits().shape());
            assertEquals(Shape.of(2, 36, 28), m.labelShape());
            assertEquals(Shape.of(8, 3, 3, 128 + 8), m.headParameters().get("decode_head.conv_cat.conv.weight").shape());

            List<String> keys = m.stateDictKeys();
            List<String> backboneKeys = m.backbone().parameters().keys();
            assertEquals(backboneKeys.size() + m.headParameters().keys().size(), keys.size());
            assertEquals("backbone.conv1.weight", keys.get(0));
            assertEquals("backbone.layer4.0.downsample.1.num_batches_tracked", keys.get(backboneKeys.size() - 1));
            assertEquals("decode_head.conv_seg.weight", keys.get(backboneKeys.size()));
            assertTrue(keys.contains("decode_head.conv_cat.bn.running_var"));
            assertEquals("auxiliary_head.convs.0.bn.num_batches_tracked", keys.get(keys.size() - 1));

            assertThrows(IllegalArgumentException.class, () -> new SegmentationModel(be, cfg, DType.F32, 1, 16, 16, 256));
            assertThrows(IllegalArgumentException.class, () -> new SegmentationModel(be, cfg, DType.F32, 1, 16, 16, 0));
        }
    }

    /**
     * spec 4.1: a DenseCL checkpoint's query backbone is stored under "backbone." + torchvision names; it
     * loads strictly into {@link SegmentationModel#backbone()}'s registry, BN statistics and counters too.
     */
    @Test
    void pretrainedBackboneLoadsIntoTheBackboneRegistry(@TempDir Path dir) {
        try (Backend be = new RefBackend()) {
            SegmentationConfig cfg = SegmentationGradCheckTest.tinyConfig(0.1f);
            Parameters pretrained = new Parameters(DType.F32);
            Activations acts = new Activations(DType.F32);
            ResNet source = new ResNet(be, cfg.backbone(), pretrained, acts, "backbone.", 1, 32, 32);
            pretrained.allocate(be);
            acts.allocate(be);
            source.initialize(99);
            Rand.normal(pretrained.get("backbone.layer3.0.bn2.running_mean").value(), 98, 1.0);
            pretrained.counters().get(0).set(1234);
            Path file = dir.resolve("densecl_backbone.safetensors");
            StateDict.save(file, pretrained, be, Map.of());

            SegmentationModel m = new SegmentationModel(be, cfg, DType.F32, 2, 24, 24, 3);
            m.initialize(1);
            LoadReport report = StateDict.load(file, m.backbone().parameters(), be, true);
            assertEquals(m.backbone().parameters().keys().size(), report.loaded().size(), report.toString());
            for (String name : List.of("conv1.weight", "layer3.0.bn2.running_mean", "layer4.0.conv2.weight")) {
                assertArrayEquals(FcnHeadTest.values(pretrained.get("backbone." + name).value()),
                        FcnHeadTest.values(m.backbone().parameters().get(name).value()), name);
            }
            assertEquals(1234, m.backbone().parameters().counters().get(0).get(), "bn1.num_batches_tracked");
        }
    }

    /** The step alone picks the dropout channels: the same step repeats a loss exactly, another step does not. */
    @Test
    void dropoutMasksFollowTheStep() {
        try (Backend be = new RefBackend()) {
            SegmentationModel m = new SegmentationModel(be, SegmentationGradCheckTest.tinyConfig(0.5f), DType.F32,
                    2, 24, 24, 3);
            m.initialize(3);
            Tensor images = be.allocate(DType.F32, m.inputShape());
            Tensor labels = be.allocate(DType.I32, m.labelShape());
            Rand.normal(images, 4, 1.0);
            Rand.labels(labels, 5, 3, SegmentationModel.IGNORE_INDEX, 0.1);
            SegmentationModel.Losses a = m.lossAndGradients(images, labels, 7);
            assertEquals(a, m.lossAndGradients(images, labels, 7), "step 7 twice");
            assertNotEquals(a.decode(), m.lossAndGradients(images, labels, 8).decode(), "steps 7 and 8");
        }
    }

    /**
     * The gradients left to their first writer (backbone blocks, heads, the resized logits') must be written
     * whole before they are read: two steps on the cpu backend, the second with every assigned gradient NaN
     * first, must give bit-identical parameter gradients (see AssignedGradientsTest for the backbone alone).
     */
    @Test
    void assignedGradientsAreWrittenBeforeTheyAreRead() {
        try (Backend be = new CpuBackend(2, "vector")) {
            ResNetConfig r = SegmentationGradCheckTest.tinyConfig(0.1f).backbone().withBlocks(2, 1, 2, 1);
            SegmentationModel m = new SegmentationModel(be, SegmentationGradCheckTest.tinyConfig(0.1f).withBackbone(r),
                    DType.F32, 2, 33, 27, 4);
            m.initialize(6);
            Tensor images = be.allocate(DType.F32, m.inputShape());
            Tensor labels = be.allocate(DType.I32, m.labelShape());
            Rand.normal(images, 7, 1.0);
            Rand.labels(labels, 8, 4, SegmentationModel.IGNORE_INDEX, 0.2);
            m.lossAndGradients(images, labels, 0);
            List<double[]> clean = gradients(m);
            List<Act> assigned = new ArrayList<>(m.backbone().activations().assignedGradients());
            assigned.addAll(m.headActivations().assignedGradients());
            assertTrue(assigned.size() > 20, "assigned gradients: " + assigned.size());
            for (Act a : assigned) {
                be.fill(a.grad(), Float.NaN);
            }
            m.lossAndGradients(images, labels, 0);
            List<double[]> poisoned = gradients(m);
            for (int i = 0; i < clean.size(); i++) {
                assertArrayEquals(clean.get(i), poisoned.get(i), "gradient " + i + " changed with the assigned"
                        + " activation gradients poisoned: one was read before its first writer set it");
            }
        }
    }

    private static List<double[]> gradients(SegmentationModel m) {
        List<double[]> out = new ArrayList<>();
        for (List<Param> ps : List.of(m.backbone().parameters().trainable(), m.headParameters().trainable())) {
            for (Param p : ps) {
                out.add(FcnHeadTest.values(p.grad()));
            }
        }
        return out;
    }
}
