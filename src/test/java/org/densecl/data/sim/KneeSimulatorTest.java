package org.densecl.data.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Reproducibility, anatomy variety and label-map consistency of the simulator. */
class KneeSimulatorTest {
    static SimulatorConfig cfg;

    @BeforeAll
    static void load() {
        cfg = SimulatorConfig.load(Path.of(SimulatorConfig.DEFAULT_PATH), List.of());
    }

    @Test
    void anImageDependsOnlyOnSeedAndIndex() {
        KneeSimulator a = new KneeSimulator(cfg), b = new KneeSimulator(cfg);
        SimImage x = a.generate(3, 17, 96);
        a.generate(3, 5, 96); // a's reused buffers must not leak into the next image
        SimImage y = new SimImage(96, 96, false);
        b.generate(3, 2, y);
        b.generate(3, 17, y);
        assertArrayEquals(x.gray, y.gray, "gray of (3, 17)");
        assertArrayEquals(x.labels, y.labels, "labels of (3, 17)");
        SimImage other = a.generate(3, 18, 96), otherSeed = a.generate(4, 17, 96);
        assertFalse(Arrays.equals(x.gray, other.gray), "index 17 and 18 gave the same image");
        assertFalse(Arrays.equals(x.gray, otherSeed.gray), "seed 3 and 4 gave the same image");
    }

    @Test
    void oddSizesAndNonSquareImagesWork() {
        KneeSimulator s = new KneeSimulator(cfg);
        for (int[] hw : new int[][] {{17, 33}, {101, 64}, {64, 129}}) {
            SimImage img = new SimImage(hw[0], hw[1], true);
            s.generate(1, 2, img);
            assertTrue(img.depthMm > 0 && Math.abs(img.pxMm * hw[0] - img.depthMm) < 1e-9, "pixel pitch " + Arrays.toString(hw));
            for (float e : img.envelope) {
                assertTrue(Float.isFinite(e) && e >= 0, "envelope " + Arrays.toString(hw));
            }
        }
    }

    @Test
    void labelMapHasTheAnatomyInOrderAndTheMaskIsTheRecess() {
        KneeSimulator s = new KneeSimulator(cfg);
        SimImage img = new SimImage(128, 128, false);
        byte[] mask = new byte[128 * 128];
        int absent = 0, distended = 0;
        for (int i = 0; i < 40; i++) {
            s.generate(11, i, img);
            img.mask(mask);
            int area = 0;
            for (int p = 0; p < mask.length; p++) {
                assertEquals(img.labels[p] == Tissue.RECESS.ordinal() ? 1 : 0, mask[p], "mask vs label at " + p);
                area += mask[p];
            }
            assertEquals(img.recessArea(), area);
            absent += img.recessPresent ? 0 : 1;
            distended += img.recessDepthMm > 4 && area > 0 ? 1 : 0;
            if (!img.recessPresent) {
                assertEquals(0, area, "image " + i + " has no recess but a non-empty mask");
            }
            for (int x = 0; x < 128; x++) {
                // tissue order down every column: skin above fat above tendon, bone at the bottom
                int last = -1;
                for (int z = 0; z < 128; z++) {
                    int t = img.labels[z * 128 + x];
                    assertTrue(t >= last || t == Tissue.PATELLA.ordinal() || last == Tissue.PATELLA.ordinal(),
                            "image " + i + " column " + x + ": " + Tissue.of(t) + " below " + (last < 0 ? "top" : Tissue.of(last)));
                    last = Math.max(last, t);
                }
                int bottom = img.labels[127 * 128 + x];
                assertTrue(bottom == Tissue.BONE.ordinal() || bottom == Tissue.PATELLA.ordinal() || bottom == Tissue.CORTEX.ordinal(),
                        "image " + i + " column " + x + " ends in " + Tissue.of(bottom) + ", not bone");
            }
        }
        // from absent to large effusion (15 % absent by default; depths up to 15 mm)
        assertTrue(absent >= 2 && absent <= 14, "absent recess in " + absent + " of 40");
        assertTrue(distended >= 10, "distended recess in only " + distended + " of 40");
    }

    @Test
    void shapeParametersVaryBySeed() {
        KneeSimulator s = new KneeSimulator(cfg);
        double minDepth = 1e9, maxDepth = 0;
        int minArea = Integer.MAX_VALUE, maxArea = 0;
        for (int i = 0; i < 30; i++) {
            SimImage img = s.generate(5, i, 64);
            minDepth = Math.min(minDepth, img.depthMm);
            maxDepth = Math.max(maxDepth, img.depthMm);
            if (img.recessPresent) {
                minArea = Math.min(minArea, img.recessArea());
                maxArea = Math.max(maxArea, img.recessArea());
            }
        }
        assertTrue(maxDepth - minDepth > 5, "field depth barely varies: " + minDepth + ".." + maxDepth);
        assertTrue(maxArea > 5 * Math.max(minArea, 1), "recess area barely varies: " + minArea + ".." + maxArea);
    }
}
