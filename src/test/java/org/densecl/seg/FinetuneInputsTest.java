package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.io.SafeTensors;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code ./densecl finetune} does with its inputs, checked on the model it saves at {@code --stop-at 0}
 * (the initialised model, before any update): a backbone file (plain torchvision keys, or under "backbone.")
 * lands in the backbone exactly, BN statistics and counters included, while the heads are the same fresh
 * init as a Kaiming run's; and every bad input fails with one actionable message: an unknown config key, an
 * --init file of another width, one that loads nothing, one that does not exist, a too large trainLimit, and a
 * diverging learning rate.
 */
class FinetuneInputsTest {
    @TempDir
    static Path tmp;

    private static Path data;

    @BeforeAll
    static void simulate() throws Exception {
        data = tmp.resolve("data");
        FinetuneFixture.finetune(data, tmp.resolve("kaiming"), "kaiming", "--stop-at", "0");
    }

    @Test
    void initLoadsTheBackboneExactlyAndLeavesTheHeadsFresh() throws Exception {
        ResNetConfig r = FinetuneFixture.config(data).model().segmentation().backbone();
        Path plain = tmp.resolve("plain.safetensors"), prefixed = tmp.resolve("prefixed.safetensors");
        List<String> keys;
        try (Backend be = new RefBackend()) {
            ResNet net = ResNet.create(be, r, DType.F32, 1, 32, 32);
            net.initialize(123);
            Tensor mean = net.parameters().get("layer3.0.bn2.running_mean").value(); // pretrained statistics
            for (int i = 0; i < mean.numel(); i++) {
                mean.set(i, 0.01 * i - 0.05);
            }
            net.parameters().counters().getFirst().set(4321);
            StateDict.save(plain, net.parameters(), be, Map.of());
            StateDict.save(prefixed, Map.of("backbone.", net.parameters()), be, Map.of(), Map.of());
            keys = net.parameters().keys();
        }
        for (Path init : List.of(plain, prefixed)) {
            Path out = tmp.resolve("init-" + init.getFileName());
            FinetuneFixture.finetune(data, out, init.toString(), "--stop-at", "0");
            try (SafeTensors src = SafeTensors.open(init); SafeTensors got = SafeTensors.open(out.resolve("last.safetensors"));
                 SafeTensors fresh = SafeTensors.open(tmp.resolve("kaiming/last.safetensors"))) {
                String prefix = init == plain ? "" : "backbone.";
                for (String k : keys) {
                    assertArrayEquals(values(src, prefix + k), values(got, "backbone." + k),
                            init.getFileName() + ": backbone." + k + " is not the file's");
                }
                for (String k : got.names()) {
                    if (k.startsWith("decode_head.") || k.startsWith("auxiliary_head.")) {
                        assertArrayEquals(values(fresh, k), values(got, k),
                                init.getFileName() + ": head entry " + k + " is not the fresh init");
                    }
                }
                assertFalse(java.util.Arrays.equals(fresh.doubles("backbone.conv1.weight"), got.doubles("backbone.conv1.weight")),
                        "the loaded stem equals the random one: the test would not see a missing load");
            }
        }
    }

    /** A tensor's values, or a BN counter's (an I64 scalar) as one double. */
    private static double[] values(SafeTensors sf, String name) {
        return name.endsWith("num_batches_tracked") ? java.util.Arrays.stream(sf.ints(name)).asDoubleStream().toArray()
                : sf.doubles(name);
    }

    @Test
    void unknownConfigKeyNamesKeyAndFile() throws Exception {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(Path.of("configs/finetune_quick.yaml"))
                .replace("  numClasses: 2", "  numClasses: 2\n  numClass: 3"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FinetuneConfig.load(bad, List.of()));
        assertTrue(e.getMessage().contains("numClass'") && e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void initOfAnotherShapeOrWithoutBackboneFailsClearly() throws Exception {
        Path wide = tmp.resolve("wide.safetensors"), other = tmp.resolve("other.safetensors");
        try (Backend be = new RefBackend()) {
            ResNetConfig r = FinetuneFixture.config(data).model().segmentation().backbone().withWidthMultiplier(0.125);
            StateDict.save(wide, ResNet.create(be, r, DType.F32, 1, 32, 32).parameters(), be, Map.of());
            Parameters p = new Parameters(DType.F32);
            p.weight("classifier.weight", Shape.of(2, 3));
            p.allocate(be);
            StateDict.save(other, p, be, Map.of());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FinetuneFixture.finetune(data, tmp.resolve("w"), wide.toString()));
        assertTrue(e.getMessage().contains("does not fit") && e.getMessage().contains("conv1.weight: file (8, 1, 7, 7),"
                + " model (4, 1, 7, 7)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FinetuneFixture.finetune(data, tmp.resolve("o"),
                other.toString()));
        assertTrue(e.getMessage().contains("loads nothing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FinetuneFixture.finetune(data, tmp.resolve("n"),
                tmp.resolve("missing.safetensors").toString()));
        assertTrue(e.getMessage().contains("'kaiming' or a safetensors file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FinetuneFixture.finetune(data, tmp.resolve("l"), "kaiming",
                "--set", "data.trainLimit=1000"));
        assertTrue(e.getMessage().contains("data.trainLimit 1000"), e.getMessage());
    }

    @Test
    void divergenceStopsWithTheIteration() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FinetuneFixture.finetune(data,
                tmp.resolve("nan"), "kaiming", "--set", "optim.lr=1e30"));
        // the loss, or a gradient before it (NonFiniteCheck), whichever overflows first
        assertTrue(e.getMessage().matches("finetune: .*iteration \\d+.*") && e.getMessage().contains("lower"),
                e.getMessage());
    }
}
