package org.densecl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.BatchCounter;
import org.densecl.nn.LrSchedule;
import org.densecl.nn.Param;
import org.densecl.nn.Sgd;
import org.densecl.tensor.DType;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save/resume is exact: 6 uninterrupted steps and 3 steps + checkpoint + a fresh backend, model and
 * optimiser + resume + 3 steps give bit-identical parameters, buffers, counters and momentum buffers.
 * Bitwise is the right tolerance: the resumed run executes the same float operations in the same order
 * (same thread count, deterministic partitioning), so any difference means lost or altered state.
 */
class CheckpointTest {
    // Tiny but complete: every block kind with a projection, BN buffers, an fc with bias.
    private static final ResNetConfig CFG = ResNetConfig.resnet(18).withBlocks(1, 1, 1, 1).withWidth(4)
            .withInChannels(1).withClassifier(3);
    private static final int BATCH = 3, SIZE = 19;
    private static final long SEED = 2026;

    @TempDir
    Path dir;

    /** A run in its own objects, as a new process would have them. */
    private static final class Run implements AutoCloseable {
        final Backend be = new CpuBackend(2, "vector");
        final ResNet net = ResNet.create(be, CFG, DType.F32, BATCH, SIZE, SIZE);
        final Sgd sgd = new Sgd(be, net.parameters(), 0.9f, 1e-3f, true);
        final ClassifierTrainer trainer;

        Run(long initSeed) {
            net.initialize(initSeed);
            trainer = new ClassifierTrainer(be, net, sgd, LrSchedule.cosine(0.05, 0.001, 6), SEED,
                    (stepSeed, images, labels) -> {
                        Rand.normal(images, stepSeed, 1.0);
                        Rand.labels(labels, stepSeed ^ 0x5DEECE66DL, 3, -1, 0);
                    });
        }

        /** Every value the run's future depends on, as raw float bits (and the counters). */
        Map<String, int[]> state() {
            Map<String, int[]> m = new LinkedHashMap<>();
            for (Param p : net.parameters().all()) {
                m.put(p.name(), bits(p.value()));
                if (p.trainable()) {
                    m.put("momentum:" + p.name(), bits(sgd.momentumBuffer(p.name())));
                }
            }
            for (BatchCounter c : net.parameters().counters()) {
                m.put(c.name(), new int[] {(int) c.get()});
            }
            return m;
        }

        private int[] bits(org.densecl.tensor.Tensor t) {
            float[] f = new float[(int) t.numel()];
            be.download(t, f);
            int[] b = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                b[i] = Float.floatToRawIntBits(f[i]);
            }
            return b;
        }

        @Override
        public void close() {
            be.close();
        }
    }

    @Test
    void resumeIsBitIdentical() throws Exception {
        String config = new ObjectMapper().writeValueAsString(CFG);
        Map<String, int[]> straight, afterThree;
        float[] lossesStraight = new float[6];
        try (Run a = new Run(7)) {
            for (int i = 0; i < 3; i++) {
                lossesStraight[i] = a.trainer.step();
            }
            afterThree = a.state();
            for (int i = 3; i < 6; i++) {
                lossesStraight[i] = a.trainer.step();
            }
            straight = a.state();
        }
        Path file = dir.resolve("ckpt.safetensors");
        float[] lossesResumed = new float[6];
        try (Run b = new Run(7)) {
            for (int i = 0; i < 3; i++) {
                lossesResumed[i] = b.trainer.step();
            }
            b.trainer.save(file, config);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "the atomic write leaves no temp file behind");
        }
        // Fresh objects initialised from another seed: everything that matters must come from the file.
        try (Run c = new Run(99)) {
            Checkpoint.State s = c.trainer.resume(file);
            assertEquals(3, s.step());
            assertEquals(SEED, s.seed());
            assertEquals(config, s.configJson());
            assertStateEquals(afterThree, c.state(), "after resume");
            for (int i = 3; i < 6; i++) {
                lossesResumed[i] = c.trainer.step();
            }
            assertEquals(6, c.trainer.stepsDone());
            assertStateEquals(straight, c.state(), "after 3 + resume + 3 steps");
        }
        assertArrayEquals(lossesStraight, lossesResumed, 0f, "the same losses, step by step");
        // The comparison can fail: training moved every trainable tensor between step 3 and 6.
        assertFalse(Arrays.equals(afterThree.get("layer4.0.conv2.weight"), straight.get("layer4.0.conv2.weight")),
                "parameters change between step 3 and step 6");
    }

    /** Without the momentum buffers the continuation differs: they are state that must be saved. */
    @Test
    void momentumIsPartOfTheState() {
        Path file = dir.resolve("c.safetensors");
        Map<String, int[]> straight;
        try (Run a = new Run(3)) {
            a.trainer.step();
            a.trainer.save(file, "{}");
            a.trainer.step();
            straight = a.state();
        }
        try (Run b = new Run(3)) {
            b.trainer.resume(file);
            b.trainer.step();
            assertStateEquals(straight, b.state(), "full resume");
        }
        try (Run c = new Run(3)) {
            c.trainer.resume(file);
            for (Param p : c.net.parameters().trainable()) {
                c.be.zero(c.sgd.momentumBuffer(p.name())); // as if the optimiser state had not been saved
            }
            c.trainer.step();
            assertFalse(Arrays.equals(straight.get("fc.weight"), c.state().get("fc.weight")),
                    "weights without momentum must not reproduce the run");
        }
    }

    @Test
    void plainWeightsAndMissingFilesAreRefusedClearly() {
        try (Run a = new Run(1)) {
            Path plain = dir.resolve("plain.safetensors");
            StateDict.save(plain, a.net.parameters(), a.be, Map.of());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.trainer.resume(plain));
            assertTrue(e.getMessage().contains("not a training checkpoint"), e.getMessage());
            Path none = dir.resolve("none.safetensors");
            e = assertThrows(IllegalArgumentException.class, () -> a.trainer.resume(none));
            assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        }
    }

    private static void assertStateEquals(Map<String, int[]> want, Map<String, int[]> got, String when) {
        assertEquals(want.keySet(), got.keySet(), when + ": same entries");
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k), got.get(k), when + ": " + k + " differs bitwise");
        }
    }
}
