package org.densecl.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints in PyTorch's state-dict form: exact round trips, the OIHW layout on disk, I64 counters,
 * wrapper prefixes, the RGB-to-grayscale stem and the messages for keys that do not fit. The model is a
 * width-4 Bottleneck ResNet with one block per stage (projections in every stage) and an fc: every kind
 * of entry torchvision's resnet50 has, at a size that runs in milliseconds.
 */
class StateDictTest {
    private static final ResNetConfig CFG = ResNetConfig.resnet(50).withBlocks(1, 1, 1, 1).withWidth(4)
            .withInChannels(1).withClassifier(3);
    private final Backend be = Backends.open("cpu", 1, "vector");
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        be.close();
    }

    private ResNet net(ResNetConfig cfg, String prefix, long seed) {
        Parameters params = new Parameters(DType.F32);
        Activations acts = new Activations(DType.F32);
        ResNet n = new ResNet(be, cfg, params, acts, prefix, 2, 32, 32);
        params.allocate(be);
        acts.allocate(be);
        n.initialize(seed);
        return n;
    }

    /** Two training forwards: running statistics leave (0, 1) and every counter reads 2. */
    private void train(ResNet n) {
        Tensor x = be.allocate(DType.F32, n.inputShape()); // (2, 32, 32, C)
        Rand.normal(x, 3, 1.0);
        n.forward(x, true);
        n.forward(x, true);
    }

    @Test
    void roundTripIsExactAndPyTorchShaped() {
        ResNet a = net(CFG, "", 1);
        train(a);
        Path f = dir.resolve("a.safetensors");
        StateDict.save(f, a.parameters(), be, Map.of("format", "pt"));

        try (SafeTensors sf = SafeTensors.open(f)) {
            assertEquals(sorted(a.parameters().keys()), sorted(sf.names()), "file keys = torchvision keys");
            assertEquals(SafeDType.I64, sf.dtype("layer2.0.bn1.num_batches_tracked"));
            assertEquals(0, sf.shape("bn1.num_batches_tracked").rank(), "num_batches_tracked is a scalar");
            assertEquals(2, sf.ints("layer4.0.downsample.1.num_batches_tracked")[0]);
            // layer2.0.conv2 is KRSC (8, 3, 3, 8) in memory and must be OIHW (8, 8, 3, 3) on disk.
            Param w = a.parameters().get("layer2.0.conv2.weight");
            assertEquals(Shape.of(8, 3, 3, 8), w.shape());
            assertEquals(Shape.of(8, 8, 3, 3), sf.shape(w.name()));
            float[] disk = sf.floats(w.name());
            Tensor mem = w.value();
            for (int o = 0; o < 8; o++) {
                for (int i = 0; i < 8; i++) {
                    for (int h = 0; h < 3; h++) {
                        for (int x = 0; x < 3; x++) {
                            assertEquals(mem.getFloat(((o * 3 + h) * 3 + x) * 8 + i), disk[((o * 8 + i) * 3 + h) * 3 + x],
                                    "layer2.0.conv2.weight OIHW[" + o + "," + i + "," + h + "," + x + "]");
                        }
                    }
                }
            }
        }

        ResNet b = net(CFG, "", 99);
        LoadReport r = StateDict.load(f, b.parameters(), be, true);
        assertEquals(a.parameters().keys().size(), r.loaded().size());
        assertTrue(r.missing().isEmpty() && r.unexpected().isEmpty() && r.stemSummed().isEmpty(), r.toString());
        for (Param p : a.parameters().all()) {
            assertBitwiseEqual(p.name(), p.value(), b.parameters().get(p.name()).value());
        }
        for (int i = 0; i < a.parameters().counters().size(); i++) {
            assertEquals(2, b.parameters().counters().get(i).get(), b.parameters().counters().get(i).name());
        }
    }

    @Test
    void wrapperPrefixesAreStrippedAndOtherEncodersAreUnexpected() {
        // A DenseCL-like registry: query encoder under "module.encoder_q.0.", key encoder beside it.
        Parameters both = new Parameters(DType.F32);
        Activations acts = new Activations(DType.F32);
        ResNet q = new ResNet(be, CFG, both, acts, "module.encoder_q.0.", 2, 32, 32);
        new ResNet(be, CFG, both, acts, "module.encoder_k.0.", 2, 32, 32);
        both.allocate(be);
        acts.allocate(be);
        q.initialize(5);
        Path f = dir.resolve("densecl.safetensors");
        StateDict.save(f, both, be, Map.of());

        ResNet b = net(CFG, "", 6);
        IllegalArgumentException strict = assertThrows(IllegalArgumentException.class,
                () -> StateDict.load(f, b.parameters(), be, true));
        int perEncoder = b.parameters().keys().size();
        assertTrue(strict.getMessage().contains(perEncoder + " unexpected keys [module.encoder_k.0.bn1.bias, "),
                strict.getMessage());
        assertTrue(!strict.getMessage().contains("missing"), strict.getMessage());

        LoadReport r = StateDict.load(f, b.parameters(), be, false);
        assertEquals(perEncoder, r.loaded().size());
        assertEquals(perEncoder, r.unexpected().size());
        assertTrue(r.unexpected().stream().allMatch(k -> k.startsWith("module.encoder_k.0.")), r.toString());
        for (Param p : b.parameters().all()) {
            assertBitwiseEqual(p.name(), both.get("module.encoder_q.0." + p.name()).value(), p.value());
        }

        ResNet mm = net(CFG, "backbone.", 7);
        Path g = dir.resolve("mmseg.safetensors");
        StateDict.save(g, mm.parameters(), be, Map.of());
        ResNet c = net(CFG, "", 8);
        assertEquals(perEncoder, StateDict.load(g, c.parameters(), be, true).loaded().size(), "backbone. stripped");
        assertBitwiseEqual("fc.weight", mm.parameters().get("backbone.fc.weight").value(),
                c.parameters().get("fc.weight").value());
        assertEquals("conv1.weight", StateDict.strip("module.backbone.conv1.weight", StateDict.PREFIXES));
    }

    @Test
    void rgbStemIsSummedOntoGrayscale() {
        ResNet rgb = net(CFG.withInChannels(3), "", 11);
        Path f = dir.resolve("rgb.safetensors");
        StateDict.save(f, rgb.parameters(), be, Map.of());
        ResNet gray = net(CFG, "", 12);
        LoadReport r = StateDict.load(f, gray.parameters(), be, true);
        assertEquals(List.of("conv1.weight"), r.stemSummed());

        Tensor w3 = rgb.parameters().get("conv1.weight").value(); // (4, 7, 7, 3)
        Tensor w1 = gray.parameters().get("conv1.weight").value(); // (4, 7, 7, 1)
        for (int j = 0; j < w1.numel(); j++) {
            // The sum of three floats, done in double and rounded once: within one f32 rounding of the exact sum.
            double sum = w3.get(3L * j) + w3.get(3L * j + 1) + w3.get(3L * j + 2);
            assertEquals(sum, w1.get(j), 1e-6 * Math.abs(sum) + 1e-12, "conv1.weight sum at " + j);
        }
        assertBitwiseEqual("layer1.0.conv2.weight", rgb.parameters().get("layer1.0.conv2.weight").value(),
                gray.parameters().get("layer1.0.conv2.weight").value());

        IllegalArgumentException off = assertThrows(IllegalArgumentException.class,
                () -> StateDict.load(f, gray.parameters(), be, true, StateDict.PREFIXES, false));
        assertTrue(off.getMessage().contains("conv1.weight: file (4, 3, 7, 7), model (4, 1, 7, 7)"), off.getMessage());
    }

    @Test
    void missingUnexpectedAndMismatchedKeysAreReportedTogether() {
        Path f = dir.resolve("backbone.safetensors");
        StateDict.save(f, net(CFG.withClassifier(0), "", 1).parameters(), be, Map.of());
        ResNet withFc = net(CFG, "", 2);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> StateDict.load(f, withFc.parameters(), be, true));
        assertTrue(missing.getMessage().contains("(strict): 2 missing keys [fc.weight, fc.bias]"),
                missing.getMessage());
        LoadReport r = StateDict.load(f, withFc.parameters(), be, false);
        assertEquals(List.of("fc.weight", "fc.bias"), r.missing());

        Path g = dir.resolve("classifier.safetensors");
        StateDict.save(g, net(CFG, "", 3).parameters(), be, Map.of());
        ResNet noFc = net(CFG.withClassifier(0), "", 4);
        IllegalArgumentException unexpected = assertThrows(IllegalArgumentException.class,
                () -> StateDict.load(g, noFc.parameters(), be, true));
        assertTrue(unexpected.getMessage().contains("2 unexpected keys [fc.bias, fc.weight]"),
                unexpected.getMessage());

        // Width 8 against width 4, no fc against an fc, and a MoCo queue the model lacks: all three kinds.
        Parameters wide = new Parameters(DType.F32);
        new ResNet(be, CFG.withWidth(8).withClassifier(0), wide, new Activations(DType.F32), "", 2, 32, 32);
        wide.buffer("queue", Shape.of(4, 5));
        wide.allocate(be);
        Path h = dir.resolve("wide.safetensors");
        StateDict.save(h, wide, be, Map.of());
        ResNet narrow = net(CFG, "", 6);
        float before = narrow.parameters().get("bn1.weight").value().getFloat(0);
        IllegalArgumentException all = assertThrows(IllegalArgumentException.class,
                () -> StateDict.load(h, narrow.parameters(), be, true));
        String m = all.getMessage();
        assertTrue(m.contains("shape/type mismatches [conv1.weight: file (8, 1, 7, 7), model (4, 1, 7, 7)"), m);
        assertTrue(m.contains("... ") && m.contains(" more]"), "long lists are cut: " + m);
        assertTrue(m.contains("2 missing keys [fc.weight, fc.bias]"), m);
        assertTrue(m.contains("1 unexpected key [queue]"), m);
        IllegalArgumentException lenient = assertThrows(IllegalArgumentException.class,
                () -> StateDict.load(h, narrow.parameters(), be, false));
        assertTrue(lenient.getMessage().contains("mismatch") && !lenient.getMessage().contains("missing")
                        && !lenient.getMessage().contains("unexpected"),
                "non-strict still refuses shape mismatches, and only them: " + lenient.getMessage());
        assertEquals(before, narrow.parameters().get("bn1.weight").value().getFloat(0),
                "a refused load changes nothing");
    }

    private static java.util.Set<String> sorted(List<String> l) {
        return new java.util.TreeSet<>(l);
    }

    private static void assertBitwiseEqual(String what, Tensor expected, Tensor actual) {
        assertEquals(expected.shape(), actual.shape(), what + " shape");
        for (long i = 0; i < expected.numel(); i++) {
            if (Float.floatToRawIntBits(expected.getFloat(i)) != Float.floatToRawIntBits(actual.getFloat(i))) {
                throw new AssertionError(what + " " + expected.shape() + " differs at " + i + ": "
                        + expected.getFloat(i) + " vs " + actual.getFloat(i));
            }
        }
    }
}
