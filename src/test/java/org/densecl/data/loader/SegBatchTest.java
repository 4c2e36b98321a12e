package org.densecl.data.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.densecl.data.Progress;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.augment.SegAugment;
import org.densecl.data.io.MaskMapping;
import org.densecl.data.io.SegDataset;
import org.densecl.data.sim.SimulationRun;
import org.densecl.data.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Segmentation batches from a simulated mmsegmentation set, end to end. */
class SegBatchTest {
    @TempDir
    Path dir;

    @Test
    void batchesHoldAugmentedImagesAndValidLabels() {
        SimulatorConfig sim = SimulatorConfig.load(Path.of(SimulatorConfig.DEFAULT_PATH), List.of("recess.absentProbability=0"));
        SimulationRun.run(sim, "test", new SimulationRun.Options(dir, 12, 64, 3, true, 2),
                new Progress(new PrintStream(OutputStream.nullOutputStream()), "t", 12, false));
        SegDataset data = SegDataset.mmseg(dir, "train", MaskMapping.classes(2));
        AugmentConfig.Segmentation cfg = AugmentConfig.load(Path.of(AugmentConfig.DEFAULT_PATH),
                List.of("segmentation.crop=[48, 40]", "segmentation.scale=[256, 64]")).segmentation();
        var opts = new PrefetchLoader.Options(3, 5, true, true, 2, 2);
        int[] seen = new int[256];
        try (var loader = new PrefetchLoader<>(SegBatch.filler(data, new SegAugment(cfg), 5), data.size(), opts)) {
            for (int k = 0; k < 2 * loader.batchesPerEpoch(); k++) {
                var b = loader.take();
                assertEquals(3, b.count());
                assertEquals(48, b.batch().height);
                for (int i = 0; i < 3 * 48 * 40; i++) {
                    seen[b.batch().labels[i]]++;
                }
            }
        }
        assertTrue(seen[0] > 0 && seen[1] > 0, "background and recess both present");
        for (int v = 2; v < 255; v++) {
            assertEquals(0, seen[v], "label value " + v);
        }
    }
}
