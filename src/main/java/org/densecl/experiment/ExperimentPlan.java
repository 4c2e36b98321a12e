package org.densecl.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.densecl.data.YamlConfig;

/**
 * What an experiment runs, and where: one pretraining into DIR/pretrain, then for every labeled-set size,
 * trial t and arm one fine-tuning with run.seed = t, so both arms of a trial share the seed and therefore
 * the labeled subset (data.trainSubset seeded), data order and augmentation; they differ only in the
 * backbone's starting point. Runs of the headline size (labeled.trainLimit, or the first size when the
 * sizes leave it out) go to DIR/ARM/trialT; other sizes to DIR/ARM/nSIZE/trialT, so a data-efficiency run
 * reuses the finished runs of a plain experiment in the same folder.
 */
public final class ExperimentPlan {
    public static final String DENSECL = "densecl";
    public static final String KAIMING = "kaiming";
    public static final List<String> ARMS = List.of(DENSECL, KAIMING);

    /** One fine-tuning: arm, labeled training images (0: all), trial (= run.seed), folder, --init and --set strings. */
    public record RunSpec(String arm, int size, int trial, Path folder, String init, List<String> overrides) {
        /** "densecl trial 0" or, in the data-efficiency mode, "densecl n16 trial 0". */
        public String label(boolean withSize) {
            return arm + (withSize ? " n" + size : "") + " trial " + trial;
        }

        /** The folder relative to the experiment's output, as results.json names it. */
        public String relative(Path output) {
            return output.relativize(folder).toString().replace('\\', '/');
        }
    }

    private final ExperimentConfig cfg;
    private final Path output;
    private final List<Integer> sizes;
    private final int headline;

    /** @param output the experiment's folder, normalised (a run's --init names a file under it, and must not change) */
    public ExperimentPlan(ExperimentConfig cfg, Path output, List<Integer> sizes) {
        this.cfg = cfg;
        this.output = output.normalize();
        this.sizes = List.copyOf(sizes);
        this.headline = sizes.contains(cfg.labeled().trainLimit()) ? cfg.labeled().trainLimit() : sizes.getFirst();
    }

    public Path output() {
        return output;
    }

    public Path pretrainDir() {
        return output.resolve("pretrain");
    }

    /** The DenseCL arm's --init: the pretraining's exported query backbone. */
    public Path backbone() {
        return pretrainDir().resolve("backbone.safetensors");
    }

    public List<Integer> sizes() {
        return sizes;
    }

    /** The size whose runs the overlays, the t-SNE map and the learning-speed line come from. */
    public int headline() {
        return headline;
    }

    /** More than one size: the data-efficiency mode. */
    public boolean efficiencyMode() {
        return sizes.size() > 1;
    }

    public int trials() {
        return cfg.trials();
    }

    /** Every fine-tuning, size by size, trial by trial, DenseCL before Kaiming (so pairs finish together). */
    public List<RunSpec> runs() {
        List<RunSpec> out = new ArrayList<>();
        for (int size : sizes) {
            for (int t = 0; t < cfg.trials(); t++) {
                for (String arm : ARMS) {
                    out.add(run(arm, size, t));
                }
            }
        }
        return out;
    }

    public RunSpec run(String arm, int size, int trial) {
        Path armDir = output.resolve(arm);
        Path folder = (size == headline ? armDir : armDir.resolve("n" + size)).resolve("trial" + trial);
        String init = arm.equals(DENSECL) ? backbone().toString() : "kaiming";
        return new RunSpec(arm, size, trial, folder, init, finetuneOverrides(size, trial));
    }

    /**
     * The fine-tuning config's overrides for one run: the experiment config's own list, then the labeled
     * set (folder, simulation seed, acquisition shift, size, seeded subset), then the trial's seed.
     */
    public List<String> finetuneOverrides(int size, int trial) {
        ExperimentConfig.Labeled l = cfg.labeled();
        List<String> o = new ArrayList<>(cfg.finetune().overrides());
        o.add("data.root=" + YamlConfig.json(l.root()));
        o.add("data.simulateSeed=" + l.simulateSeed());
        o.add("data.simulateOverrides=" + YamlConfig.json(l.acquisitionShift()));
        o.add("data.trainLimit=" + size);
        o.add("data.trainSubset=seeded");
        o.add(String.format(Locale.ROOT, "run.seed=%d", trial));
        return o;
    }
}
