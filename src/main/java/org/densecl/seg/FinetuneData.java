package org.densecl.seg;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.densecl.data.Progress;
import org.densecl.data.Seeds;
import org.densecl.data.io.MaskMapping;
import org.densecl.data.io.SegDataset;
import org.densecl.data.sim.SimulatedFolder;
import org.densecl.data.sim.SimulationRun;
import org.densecl.data.sim.SimulatorConfig;

/**
 * The labeled folder of a fine-tuning run (mmseg layout, masks 0..K-1, 255 ignored). When data.root does
 * not exist it is simulated there first ({@code ./densecl simulate --labeled} with data.simulate* and the
 * simulator config under data.simulateOverrides, so a config can ask for a shifted acquisition); an interrupted
 * simulation never passes for a data set and is continued by the next run ({@link SimulatedFolder}).
 */
public final class FinetuneData {
    private FinetuneData() {}

    /** data.root, simulated first if absent, checked against its manifest if simulated earlier. */
    public static Path ensure(FinetuneConfig.Data d, PrintStream log) {
        Path simCfg = SimulatorConfig.locateDefault();
        int threads = Runtime.getRuntime().availableProcessors();
        SimulatedFolder.ensure(SimulatorConfig.load(simCfg, d.simulateOverrides()), simCfg.toString(), d.simulateOverrides(),
                new SimulationRun.Options(Path.of(d.root()), d.simulateCount(), d.simulateSize(), d.simulateSeed(), true,
                        threads), new Progress(log, "simulate", d.simulateCount()), "finetune");
        return Path.of(d.root());
    }

    /** One split of the folder, classes 0..numClasses-1 and 255 ignored. */
    public static SegDataset split(Path root, String split, int numClasses) {
        try {
            return SegDataset.mmseg(root, split, MaskMapping.classes(numClasses));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("data split '" + split + "' of " + root + ": " + e.getMessage()
                    + " (a simulated set needs enough images for every split: raise data.simulateCount)", e);
        }
    }

    /**
     * The training images a run draws its batches from: data.trainLimit of {@code pool} (all for 0), either
     * the first by name or, for data.trainSubset "seeded", a uniform draw seeded by {@code seed} (run.seed).
     * A seeded draw takes a prefix of one permutation of the pool, so for one seed a smaller subset lies
     * inside every larger one, and sorts it by name: the loader's order then depends on the seed alone.
     */
    public static SegDataset trainingImages(SegDataset pool, FinetuneConfig.Data d, long seed) {
        int available = pool.size();
        int limit = d.trainLimit() == 0 ? available : d.trainLimit();
        if (limit > available) {
            throw new IllegalArgumentException("data.trainLimit " + d.trainLimit() + " is more than the " + available
                    + " training images in " + d.root() + "; lower it or use 0 for all");
        }
        if (limit < d.batch()) {
            throw new IllegalArgumentException(limit + " training images make no full batch of data.batch " + d.batch()
                    + "; lower data.batch or raise data.trainLimit / data.simulateCount");
        }
        int[] order = new int[available]; // (pool size) a permutation of the pool; its first `limit` are used
        for (int i = 0; i < available; i++) {
            order[i] = i;
        }
        if (d.trainSubset().equals("seeded")) {
            SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, 0x7375627365744cL)); // "subsetL"
            for (int i = 0; i < available - 1; i++) { // Fisher-Yates, front to back
                int j = i + rng.nextInt(available - i);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        int[] chosen = Arrays.copyOf(order, limit); // (limit)
        Arrays.sort(chosen);
        String why = d.trainSubset().equals("seeded") ? limit + " drawn by seed " + seed : "first " + limit;
        return limit == available ? pool : pool.subset(chosen, why);
    }
}
