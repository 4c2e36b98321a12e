package org.densecl.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.densecl.data.io.SegDataset;
import org.densecl.seg.FinetuneConfig;
import org.densecl.seg.FinetuneData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The experiment's layout and statistics without training anything: where each run goes and with which
 * overrides (both arms of a trial differ only in --init), the seeded labeled subsets (same seed same subset,
 * nested across sizes, another seed another subset, "first" unchanged), and the paired comparison's numbers.
 */
class ExperimentPlanTest {
    @TempDir
    Path tmp;

    @Test
    void plansRunsPerSizeTrialAndArm() {
        ExperimentConfig cfg = ExperimentConfig.load(Path.of("configs/experiment_quick.yaml"), List.of());
        ExperimentPlan plan = new ExperimentPlan(cfg, Path.of("./runs/x"), cfg.sizes(List.of(16, 32)));
        assertEquals(32, plan.headline(), "the config's trainLimit is the headline size");
        List<ExperimentPlan.RunSpec> runs = plan.runs();
        assertEquals(2 * 2 * cfg.trials(), runs.size());
        ExperimentPlan.RunSpec d = plan.run("densecl", 32, 1), k = plan.run("kaiming", 32, 1);
        assertEquals(Path.of("runs/x/densecl/trial1"), d.folder(), "headline runs: ARM/trialT (the output normalised)");
        assertEquals(Path.of("runs/x/kaiming/n16/trial0"), plan.run("kaiming", 16, 0).folder(), "others: ARM/nSIZE/trialT");
        assertEquals("runs/x/pretrain/backbone.safetensors", d.init());
        assertEquals("kaiming", k.init());
        assertEquals(d.overrides(), k.overrides(), "both arms of a trial: the same overrides, only --init differs");
        assertTrue(d.overrides().containsAll(List.of("data.trainLimit=32", "data.trainSubset=seeded", "run.seed=1",
                "data.simulateSeed=7", "data.root=\"data/knee-labeled-shifted\"")), d.overrides().toString());
        FinetuneConfig ft = FinetuneConfig.load(Path.of("configs/finetune_quick.yaml"), d.overrides());
        assertEquals(cfg.labeled().acquisitionShift(), ft.data().simulateOverrides(),
                "the shift survives the trip through a --set string");
        assertNotEquals("data/knee-labeled", ft.data().root(), "the shifted set must not share finetune_quick's folder");
        assertEquals(List.of(32), cfg.sizes(null), "no --sizes, no labeled.sizes: just trainLimit");
        assertThrows(IllegalArgumentException.class, () -> cfg.sizes(List.of(16, 16)));
    }

    @Test
    void seededSubsetsAreSharedNestedAndPerTrial() throws Exception {
        Path root = tmp.resolve("set");
        for (String dir : List.of("img_dir/train", "ann_dir/train")) {
            Files.createDirectories(root.resolve(dir));
            for (int i = 0; i < 30; i++) {
                Files.createFile(root.resolve(dir).resolve(String.format("sim_%06d.png", i)));
            }
        }
        SegDataset pool = FinetuneData.split(root, "train", 2);
        assertEquals(names(pool, 8, "seeded", 3), names(pool, 8, "seeded", 3), "a seed draws one subset");
        assertNotEquals(names(pool, 8, "seeded", 3), names(pool, 8, "seeded", 4), "another seed, another subset");
        assertTrue(names(pool, 16, "seeded", 3).containsAll(names(pool, 8, "seeded", 3)), "nested across sizes");
        List<String> first = names(pool, 8, "first", 3);
        assertEquals(List.of("sim_000000", "sim_000001", "sim_000002", "sim_000003", "sim_000004", "sim_000005",
                "sim_000006", "sim_000007"), first, "'first' keeps the old behaviour");
        List<String> seeded = names(pool, 8, "seeded", 0);
        assertEquals(seeded.stream().sorted().toList(), seeded, "a seeded subset is in name order");
        assertFalse(seeded.equals(first), "a seeded subset is not just the first images");
        assertSame(pool, FinetuneData.trainingImages(pool, data(0, "seeded"), 5), "trainLimit 0: the whole pool");
    }

    @Test
    void pairedComparisonNumbers() {
        // DenseCL 80, 82, 81 and Kaiming 70, 73, 71: means 81 and 71.333, sample stds 1 and 1.528; per-trial
        // gaps 10, 9, 10 (mean 9.667, std 0.5774), paired t = 9.667 / (0.5774 / sqrt 3) = 29.0 with 2 df.
        Comparison c = Comparison.of(new double[] {80, 82, 81}, new double[] {70, 73, 71});
        assertEquals(81, c.densecl().mean(), 1e-12);
        assertEquals(1, c.densecl().std(), 1e-12);
        assertEquals(Math.sqrt(7.0 / 3), c.kaiming().std(), 1e-12);
        assertEquals(29.0 / 3, c.gap(), 1e-12);
        assertEquals(29.0, c.pairedT(), 1e-9);
        assertEquals(2, c.df());
        assertEquals(4.303, c.tCritical(), 1e-12);
        assertTrue(c.exceedsSpread() && c.significant());
        Comparison close = Comparison.of(new double[] {71, 75}, new double[] {72, 73});
        assertFalse(close.exceedsSpread(), "a gap of 0.5 inside stds of 2.8 and 0.7");
        Comparison one = Comparison.of(new double[] {80}, new double[] {70});
        assertTrue(Double.isNaN(one.largerStd()) && Double.isNaN(one.pairedT()) && !one.exceedsSpread()
                && !one.significant(), "one trial: no spread, no test");
    }

    private static List<String> names(SegDataset pool, int limit, String how, long seed) {
        SegDataset s = FinetuneData.trainingImages(pool, data(limit, how), seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            out.add(s.sample(i).name());
        }
        return out;
    }

    private static FinetuneConfig.Data data(int limit, String how) {
        return FinetuneConfig.load(Path.of("configs/finetune_quick.yaml"), List.of("data.trainLimit=" + limit,
                "data.trainSubset=" + how, "data.batch=4")).data();
    }
}
