package org.densecl.experiment;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.densecl.data.io.SegDataset;
import org.densecl.data.sim.SimulationPlan;
import org.densecl.data.sim.SimulationRun;
import org.densecl.data.sim.SimulatorConfig;
import org.densecl.seg.FinetuneConfig;
import org.densecl.seg.FinetuneData;

/**
 * The experiment's labeled set: simulated on first use (as finetune would), checked to be the simulation the
 * config asks for (its manifest.json's seed, count, size and effective simulator config, the acquisition
 * shift included: a folder simulated earlier with other settings would silently change the study), and its
 * splits, with the number of training images each labeled-set size stands for.
 */
public final class LabeledData {
    private final FinetuneConfig.Data data;
    private final SegDataset pool;
    private final SegDataset val;
    private final SegDataset test;
    private final List<Integer> sizes;

    private LabeledData(FinetuneConfig.Data data, SegDataset pool, SegDataset val, SegDataset test, List<Integer> sizes) {
        this.data = data;
        this.pool = pool;
        this.val = val;
        this.test = test;
        this.sizes = sizes;
    }

    /** Simulates {@code d.root} if absent, checks it and that every size fits its training split. */
    public static LabeledData prepare(FinetuneConfig.Data d, int numClasses, List<Integer> sizes, PrintStream console) {
        Path root = FinetuneData.ensure(d, console);
        requireSameSimulation(root, d);
        SegDataset pool = FinetuneData.split(root, "train", numClasses);
        for (int size : sizes) {
            if (size > pool.size()) {
                throw new IllegalArgumentException("experiment: a labeled set of " + size + " images needs more than the "
                        + pool.size() + " training images of " + root + "; lower labeled.trainLimit / --sizes, or raise"
                        + " data.simulateCount (finetune.overrides) and give labeled.root a new folder");
            }
        }
        return new LabeledData(d, pool, FinetuneData.split(root, "val", numClasses),
                FinetuneData.split(root, "test", numClasses), List.copyOf(sizes));
    }

    public Path root() {
        return Path.of(data.root());
    }

    public SegDataset test() {
        return test;
    }

    /** Images per split: train, val, test. */
    public int[] splitSizes() {
        return new int[] {pool.size(), val.size(), test.size()};
    }

    /** The training images a labeled-set size stands for (0: the whole training split). */
    public int count(int size) {
        return size == 0 ? pool.size() : size;
    }

    public List<Integer> counts() {
        return sizes.stream().map(this::count).toList();
    }

    /** The names of the training images a run of this size and seed uses (as finetune draws them). */
    public List<String> trainingImages(FinetuneConfig.Data runData, long seed) {
        SegDataset s = FinetuneData.trainingImages(pool, runData, seed);
        List<String> names = new ArrayList<>(s.size());
        for (int i = 0; i < s.size(); i++) {
            names.add(s.sample(i).name());
        }
        return names;
    }

    private static void requireSameSimulation(Path root, FinetuneConfig.Data d) {
        Path manifest = root.resolve("manifest.json");
        if (!Files.isRegularFile(manifest)) {
            throw new IllegalArgumentException(root + " has no manifest.json, so it cannot be checked to be the labeled"
                    + " set this experiment asks for; give labeled.root a new folder (it is simulated there)");
        }
        Path simCfg = SimulatorConfig.locateDefault();
        SimulationPlan want = SimulationPlan.of(SimulatorConfig.load(simCfg, d.simulateOverrides()),
                new SimulationRun.Options(root, d.simulateCount(), d.simulateSize(), d.simulateSeed(), true, 1));
        String differs = SimulationPlan.read(manifest).difference(want);
        if (differs != null) {
            throw new IllegalArgumentException(root + " holds another simulation than this experiment's labeled set ("
                    + differs + (differs.startsWith("another simulator config") ? ": acquisition shift "
                    + d.simulateOverrides() + " over " + simCfg + " gives a different one" : "") + "); give labeled.root a"
                    + " new folder, or delete " + root);
        }
    }
}
