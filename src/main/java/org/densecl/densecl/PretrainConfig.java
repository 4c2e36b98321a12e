package org.densecl.densecl;

import java.nio.file.Path;
import java.util.List;
import org.densecl.data.Range;
import org.densecl.data.YamlConfig;
import org.densecl.model.ResNetConfig;

/**
 * {@code ./densecl pretrain}'s configuration (configs/densecl_*.yaml), read strictly by {@link YamlConfig}:
 * unknown or missing keys are errors naming the key and file. Defaults live in the YAML files.
 */
public record PretrainConfig(Model model, DenseCl densecl, Optim optim, Data data, Run run) {

    /**
     * The backbone and neck; neckBatchNorm puts a BN between the global head's first Linear and its ReLU
     * (not in the paper; see {@link DenseClNeck}).
     */
    public record Model(int depth, double widthMultiplier, int inChannels, int hidden, int dim, boolean neckBatchNorm) {
        public Model {
            require(List.of(18, 34, 50, 101).contains(depth), "model.depth must be 18, 34, 50 or 101, got " + depth);
            require(widthMultiplier > 0, "model.widthMultiplier must be > 0");
            require(inChannels == 1 || inChannels == 3, "model.inChannels must be 1 or 3");
            require(hidden > 0 && dim > 0, "model.hidden and model.dim must be > 0");
        }

        public ResNetConfig resnet() {
            return ResNetConfig.resnet(depth).withWidthMultiplier(widthMultiplier).withInChannels(inChannels);
        }
    }

    /** Queues, temperature, loss weight, key-encoder momentum. */
    /**
     * ... lambdaWarmupSteps: steps of pure MoCo v2 (lambda 0) before the dense loss starts (spec 2.4);
     * bnGroups: shuffle-BN emulation groups (spec 2.7, 1 = off): query BN per contiguous group, key BN per
     * group of a random permutation.
     */
    public record DenseCl(int queueSize, double temperature, double lambda, double momentum, long lambdaWarmupSteps,
                          int bnGroups) {
        public DenseCl {
            require(lambdaWarmupSteps >= 0, "densecl.lambdaWarmupSteps must be >= 0");
            require(bnGroups >= 1, "densecl.bnGroups must be >= 1");
        }
    }

    /**
     * SGD and the per-epoch cosine schedule (spec 3.2), after {@code warmupSteps} steps of a linear rise from
     * 0 (per step; 0 = none, as the paper).
     */
    public record Optim(double lr, double sgdMomentum, double weightDecay, int epochs, long warmupSteps) {
        public Optim {
            require(lr > 0 && epochs > 0, "optim.lr and optim.epochs must be > 0");
            require(warmupSteps >= 0, "optim.warmupSteps must be >= 0");
        }
    }

    /**
     * The image folder (simulated there on first use when it does not exist), input size, batch and
     * loader, and the augmentation file whose {@code pretrain} section is used with {@code size},
     * {@code cropScale} and {@code model.inChannels} put in (the crop's area range decides how much of an
     * image's identity both views share, so it belongs to the recipe).
     */
    public record Data(String root, int simulateCount, int simulateSize, long simulateSeed, String augment,
                       Range cropScale, int size, int batch, int workers) {
        public Data {
            require(size >= 32 && batch >= 1 && workers >= 1, "data.size >= 32, data.batch >= 1, data.workers >= 1");
            require(cropScale != null && cropScale.lo() > 0 && cropScale.hi() <= 1,
                    "data.cropScale must be [lo, hi] with 0 < lo <= hi <= 1, got " + cropScale);
        }
    }

    /** Seed, backend, logging and checkpoint cadence. */
    public record Run(long seed, String backend, int threads, int logEvery, int checkpointEvery) {
        public Run {
            require(logEvery >= 1 && checkpointEvery >= 1, "run.logEvery and run.checkpointEvery must be >= 1");
        }
    }

    public DenseClOptions options() {
        return new DenseClOptions(model.hidden(), model.dim(), densecl.queueSize(), (float) densecl.temperature(),
                (float) densecl.lambda(), (float) densecl.momentum(), (float) optim.sgdMomentum(),
                (float) optim.weightDecay(), densecl.bnGroups(), model.neckBatchNorm());
    }

    public static PretrainConfig load(Path file, List<String> overrides) {
        return YamlConfig.readNamed(file, PretrainConfig.class, overrides);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
