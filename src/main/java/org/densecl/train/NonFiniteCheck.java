package org.densecl.train;

import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.Tensor;

/**
 * Stops a diverging run at the step it diverges, naming where: after backward, the loss and every
 * parameter gradient are scanned with {@link Backend#countNonFinite}. Gradients are scanned in backward
 * order (last declared first, the classifier before the stem), so the tensor named is the first one the
 * NaN/Inf reached on its way from the loss: the layer closest to its origin. The message tells how many
 * values and how many other tensors are affected, and what usually helps.
 *
 * <p>Cost: one read of every gradient per step, about what one SGD update reads; nothing is allocated.
 */
public final class NonFiniteCheck {
    private static final String ADVICE = "; lower the learning rate or check the input";

    private NonFiniteCheck() {}

    /**
     * Throws IllegalStateException if {@code loss} (may be null) or any trainable gradient of
     * {@code params} holds a NaN or an infinity, e.g. "step 12: non-finite gradient in
     * layer3.4.conv2.weight (3 of 589824 values; 41 more tensors affected); lower the learning rate or
     * check the input".
     */
    public static void afterBackward(Backend be, long step, Tensor loss, Parameters params) {
        if (loss != null) {
            long bad = be.countNonFinite(loss);
            if (bad > 0) {
                throw new IllegalStateException("step " + step + ": non-finite loss (" + bad + " of " + loss.numel()
                        + " values)" + ADVICE);
            }
        }
        List<Param> trainable = params.trainable();
        Param first = null;
        long firstBad = 0;
        int others = 0;
        for (int i = trainable.size() - 1; i >= 0; i--) {
            Param p = trainable.get(i);
            long bad = be.countNonFinite(p.grad());
            if (bad == 0) {
                continue;
            }
            if (first == null) {
                first = p;
                firstBad = bad;
            } else {
                others++;
            }
        }
        if (first != null) {
            throw new IllegalStateException("step " + step + ": non-finite gradient in " + first.name() + " ("
                    + firstBad + " of " + first.numel() + " values"
                    + (others == 0 ? "" : "; " + others + " more tensor" + (others == 1 ? "" : "s") + " affected")
                    + ")" + ADVICE);
        }
    }
}
