package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.tensor.Tensor;

/**
 * Reference parameter updates: SGD with momentum and weight decay (torch.optim.SGD, dampening 0,
 * no Nesterov) and the momentum encoder's exponential moving average. Flat loops over parameters.
 */
final class RefOptim {
    private RefOptim() {}

    /**
     * g = grad + weightDecay * param; buf = momentum * buf + g; param -= lr * buf. A zero buffer makes
     * the first step buf = g, which is what PyTorch does when it creates the buffer. With momentum 0 the
     * buffer may be null (PyTorch keeps none then) and the step is param -= lr * g.
     */
    static void sgdStep(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay) {
        String op = "sgdStep";
        RefArgs.floats(op, "param", param);
        RefArgs.floats(op, "grad", grad);
        Check.same(op, "grad", grad, "param", param);
        if (buf != null) {
            RefArgs.floats(op, "momentumBuffer", buf);
            Check.same(op, "momentumBuffer", buf, "param", param);
        } else {
            Check.that(momentum == 0, op, "momentumBuffer is null but momentum is " + momentum);
        }
        for (long i = 0; i < param.numel(); i++) {
            double w = param.get(i);
            double g = grad.get(i) + weightDecay * w;
            double step = g;
            if (buf != null) {
                step = momentum * buf.get(i) + g;
                buf.set(i, step);
                step = buf.get(i); // use the stored (rounded) buffer, as a float32 PyTorch run does
            }
            param.set(i, w - lr * step);
        }
    }

    /** target = m * target + (1 - m) * source. */
    static void emaUpdate(Tensor target, Tensor source, double m) {
        String op = "emaUpdate";
        RefArgs.floats(op, "target", target);
        RefArgs.floats(op, "source", source);
        Check.same(op, "source", source, "target", target);
        for (long i = 0; i < target.numel(); i++) {
            target.set(i, m * target.get(i) + (1 - m) * source.get(i));
        }
    }
}
