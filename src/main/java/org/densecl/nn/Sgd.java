package org.densecl.nn;

import org.densecl.backend.Backend;
import org.densecl.tensor.Plan;
import org.densecl.tensor.Tensor;

/**
 * torch.optim.SGD (dampening 0, no Nesterov) over the trainable entries of a {@link Parameters}
 * registry, one {@link Backend#sgdStep} per tensor. Momentum buffers are planned in one slab at
 * construction, zero, which makes the first step buf = g exactly as PyTorch creates its buffers.
 *
 * <p>Weight decay applies to WEIGHT entries always and to BIAS and NORM entries (conv/linear biases, BN
 * gamma and beta) only when {@code decayNormAndBias}. PyTorch's default, and what DenseCL and
 * mmsegmentation configs do, is to decay everything (true); false is the common "no decay on BN and bias"
 * variant. The learning rate is passed to every step, so any schedule drives it.
 */
public final class Sgd {
    private final Backend be;
    private final Parameters params;
    private final float momentum;
    private final float weightDecay;
    private final boolean decayNormAndBias;
    private final Plan buffers; // one (shape of param) buffer per trainable parameter, or null

    public Sgd(Backend be, Parameters params, float momentum, float weightDecay, boolean decayNormAndBias) {
        if (!params.allocated()) {
            throw new IllegalStateException("Sgd: allocate the Parameters before creating the optimiser");
        }
        if (momentum < 0 || weightDecay < 0) {
            throw new IllegalArgumentException("Sgd: momentum " + momentum + " and weight decay " + weightDecay
                    + " must be >= 0");
        }
        this.be = be;
        this.params = params;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.decayNormAndBias = decayNormAndBias;
        if (momentum > 0) {
            buffers = new Plan();
            for (Param p : params.trainable()) {
                buffers.add(p.name(), params.dtype(), p.shape());
            }
            Slab.allocate(buffers, be, params.dtype());
        } else {
            buffers = null;
        }
    }

    /** One update of every trainable parameter with learning rate {@code lr}. */
    public void step(float lr) {
        for (Param p : params.trainable()) {
            be.sgdStep(p.value(), p.grad(), buffers == null ? null : buffers.get(p.name()), lr, momentum,
                    weightDecayOf(p));
        }
    }

    /** The weight decay applied to {@code p}. */
    public float weightDecayOf(Param p) {
        return p.role() == Param.Role.WEIGHT || decayNormAndBias ? weightDecay : 0f;
    }

    /** The momentum factor; 0 means plain SGD, without momentum buffers. */
    public float momentum() {
        return momentum;
    }

    /** The momentum buffer of parameter {@code name} (a checkpoint saves and restores these). */
    public Tensor momentumBuffer(String name) {
        if (buffers == null) {
            throw new IllegalStateException("Sgd: momentum is 0, so there are no momentum buffers");
        }
        return buffers.get(name);
    }
}
