package org.densecl.experiment;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.densecl.data.YamlConfig;

/**
 * {@code ./densecl experiment}'s configuration (configs/experiment_*.yaml), read strictly by {@link YamlConfig}:
 * unknown or missing keys are errors naming the key and file. It names the pretraining and fine-tuning configs
 * it builds on (with --set overrides for each), how many trials to run, and the labeled set: where it is
 * simulated, under which acquisition shift, and how many of its training images a trial may use.
 */
public record ExperimentConfig(int trials, Stage pretrain, Stage finetune, Labeled labeled, Report report) {

    public ExperimentConfig {
        require(trials >= 1, "trials must be >= 1, got " + trials);
    }

    /** A config file of another command and the --set overrides applied to it (KEY=VALUE, YAML values). */
    public record Stage(String config, List<String> overrides) {
        public Stage {
            require(config != null && !config.isBlank(), "a stage's config must name a file");
            overrides = List.copyOf(overrides);
        }
    }

    /**
     * The labeled data of every fine-tuning run, put over the fine-tuning config's data section: its folder
     * (simulated there on first use), simulation seed, the simulator overrides that shift its acquisition
     * away from the unlabeled pool's, the labeled training images per trial ({@code trainLimit}, 0 for all),
     * and {@code sizes}: labeled-set sizes for the data-efficiency mode ([] for one size, trainLimit).
     */
    public record Labeled(String root, long simulateSeed, List<String> acquisitionShift, int trainLimit,
                          List<Integer> sizes) {
        public Labeled {
            require(root != null && !root.isBlank(), "labeled.root must name a folder");
            require(trainLimit >= 0, "labeled.trainLimit must be >= 0 (0 = all training images), got " + trainLimit);
            acquisitionShift = List.copyOf(acquisitionShift);
            sizes = List.copyOf(sizes);
            requireSizes(sizes, "labeled.sizes");
        }
    }

    /** The figures: test images in overlays.png, and whether tsne.png also shows the backbones before fine-tuning. */
    public record Report(int overlayImages, boolean tsneBeforeFinetuning) {
        public Report {
            require(overlayImages >= 1 && overlayImages <= 24, "report.overlayImages must be in [1, 24], got "
                    + overlayImages);
        }
    }

    /** The labeled-set sizes to run: {@code cliSizes} if given, else labeled.sizes, else [trainLimit]. */
    public List<Integer> sizes(List<Integer> cliSizes) {
        if (cliSizes != null && !cliSizes.isEmpty()) {
            requireSizes(cliSizes, "--sizes");
            return List.copyOf(cliSizes);
        }
        return labeled.sizes().isEmpty() ? List.of(labeled.trainLimit()) : labeled.sizes();
    }

    public static ExperimentConfig load(Path file, List<String> overrides) {
        return YamlConfig.readNamed(file, ExperimentConfig.class, overrides);
    }

    private static void requireSizes(List<Integer> sizes, String what) {
        require(sizes.stream().allMatch(s -> s != null && s >= 1), what + " must be labeled-set sizes >= 1, got " + sizes);
        require(new HashSet<>(sizes).size() == sizes.size(), what + " lists a size twice: " + sizes);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
