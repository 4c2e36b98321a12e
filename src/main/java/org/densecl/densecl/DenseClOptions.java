package org.densecl.densecl;

/**
 * DenseCL's hyper-parameters besides the backbone (spec 1.2-1.5, 3.2).
 *
 * @param hidden      neck hidden width H (2048 in the paper)
 * @param dim         embedding width D (128)
 * @param queueSize   K negatives per queue (65536); a multiple of the batch
 * @param temperature tau (0.2)
 * @param lambda      weight of the dense loss (0.5); 0 is MoCo v2
 * @param momentum    key-encoder EMA m (0.999)
 * @param sgdMomentum SGD momentum (0.9)
 * @param weightDecay SGD weight decay on every parameter (1e-4)
 * @param bnGroups    shuffle-BN emulation (spec 2.7): the query batch is normalised in this many contiguous
 *                    groups of N / bnGroups, the key batch in as many groups of a random permutation;
 *                    1 = off (one BN over the batch for both encoders)
 * @param neckBatchNorm a BN between the global head's first Linear and its ReLU ({@link DenseClNeck}); the
 *                    paper has none
 */
public record DenseClOptions(int hidden, int dim, int queueSize, float temperature, float lambda, float momentum,
                             float sgdMomentum, float weightDecay, int bnGroups, boolean neckBatchNorm) {
    /** Without a BN in the global head, as the paper. */
    public DenseClOptions(int hidden, int dim, int queueSize, float temperature, float lambda, float momentum,
                          float sgdMomentum, float weightDecay, int bnGroups) {
        this(hidden, dim, queueSize, temperature, lambda, momentum, sgdMomentum, weightDecay, bnGroups, false);
    }

    /** Without shuffle-BN emulation (bnGroups 1). */
    public DenseClOptions(int hidden, int dim, int queueSize, float temperature, float lambda, float momentum,
                          float sgdMomentum, float weightDecay) {
        this(hidden, dim, queueSize, temperature, lambda, momentum, sgdMomentum, weightDecay, 1);
    }

    public DenseClOptions {
        if (bnGroups < 1) {
            throw new IllegalArgumentException("DenseClOptions: bnGroups " + bnGroups + " must be >= 1");
        }
        if (hidden <= 0 || dim <= 0 || queueSize <= 0) {
            throw new IllegalArgumentException("DenseClOptions: hidden " + hidden + ", dim " + dim + " and queue "
                    + queueSize + " must be > 0");
        }
        if (!(temperature > 0) || !(lambda >= 0 && lambda <= 1) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("DenseClOptions: need temperature > 0 (" + temperature
                    + "), lambda in [0, 1] (" + lambda + "), momentum in [0, 1] (" + momentum + ")");
        }
    }

    public DenseClOptions withNeckBatchNorm(boolean on) {
        return new DenseClOptions(hidden, dim, queueSize, temperature, lambda, momentum, sgdMomentum, weightDecay,
                bnGroups, on);
    }

    /** The paper's values (spec 3.2). */
    public static DenseClOptions paper() {
        return new DenseClOptions(2048, 128, 65536, 0.2f, 0.5f, 0.999f, 0.9f, 1e-4f);
    }
}
