package org.densecl.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.densecl.densecl.PretrainConfig;
import org.densecl.seg.FinetuneConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Experiment configs: the committed ones parse (the paper one names the paper's data sizes and schedules, and
 * stops at once where no GPU loads, creating nothing), and bad input is one message naming
 * what is wrong and where: an unknown key of the experiment file, an unknown key in a stage's overrides, a
 * missing stage config, and two stages whose models do not fit together.
 */
class ExperimentConfigTest {
    @TempDir
    Path tmp;

    @Test
    void committedConfigsParse() {
        ExperimentConfig quick = ExperimentConfig.load(Path.of("configs/experiment_quick.yaml"), List.of());
        assertEquals(3, quick.trials());
        assertEquals(32, quick.labeled().trainLimit());
        assertFalse(quick.labeled().acquisitionShift().isEmpty(), "the labeled set comes from a shifted acquisition");
        ExperimentConfig paper = ExperimentConfig.load(Path.of("configs/experiment_paper.yaml"), List.of());
        PretrainConfig pre = PretrainConfig.load(Path.of(paper.pretrain().config()), paper.pretrain().overrides());
        assertEquals(List.of(20000, 500, 32), List.of(pre.data().simulateCount(), pre.optim().epochs(), pre.data().batch()),
                "paper pretraining: 20k images, 500 epochs, batch 32");
        FinetuneConfig ft = FinetuneConfig.load(Path.of(paper.finetune().config()), paper.finetune().overrides());
        assertEquals(List.of(40000L, 16L, 3750L), List.of(ft.optim().iterations(), (long) ft.data().batch(),
                (long) ft.data().simulateCount()), "paper fine-tuning: 40k iterations, batch 16, 3,750 labeled images");
        assertEquals("cuda", ft.run().backend());
    }

    @Test
    void paperConfigNeedsTheGpuBackend() {
        Path out = tmp.resolve("paper");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Experiment(
                new Experiment.Options(Path.of("configs/experiment_paper.yaml"), List.of(), out, null, false, null),
                System.err).run());
        assertTrue(e.getMessage().contains("cuda") && e.getMessage().contains("GPU"), e.getMessage());
        assertFalse(Files.exists(out), "a refused experiment creates nothing");
    }

    @Test
    void badInputNamesKeyAndFile() throws Exception {
        String quick = Files.readString(Path.of("configs/experiment_quick.yaml"));
        Path unknown = write("unknown.yaml", quick.replace("  trainLimit: 32", "  trainLimit: 32\n  trainLimitt: 16"));
        assertMessage(unknown, "trainLimitt", unknown.toString());
        Path override = write("override.yaml", quick.replace("  overrides: []             # its --set strings, e.g.",
                "  overrides: [\"optim.lrr=0.1\"] #"));
        assertMessage(override, "lrr", override.toString(), "pretrain");
        Path missing = write("missing.yaml", quick.replace("config: configs/finetune_quick.yaml",
                "config: configs/finetune_nope.yaml"));
        assertMessage(missing, "configs/finetune_nope.yaml", "not found");
        Path mismatch = write("mismatch.yaml", quick.replace("  overrides: []             # its --set strings; the",
                "  overrides: [\"model.widthMultiplier=0.25\"] #"));
        assertMessage(mismatch, "widthMultiplier", mismatch.toString());
    }

    private Path write(String name, String text) throws Exception {
        // an edit that no longer matches would leave a valid config, and the test would start a real experiment
        assertNotEquals(Files.readString(Path.of("configs/experiment_quick.yaml")), text, name + ": the edit missed");
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private void assertMessage(Path config, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Experiment(
                new Experiment.Options(config, List.of(), tmp.resolve("out"), null, false, null), System.err).run());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
        }
    }
}
