package org.densecl.backend.cuda;

import org.densecl.backend.Check;
import org.densecl.tensor.Tensor;

/**
 * Softmax cross-entropy with an ignore label and L2 normalisation on our kernels. The forward's label kernel
 * records the first pixel whose label is neither a class nor the ignore label in a {@link DeferredChecks}
 * slot, so a bad label throws with the pixel and label, as on the host backends, at the host's next
 * synchronisation (the loss download) rather than with a round trip of its own. The backward trusts the
 * labels its forward checked.
 */
final class CudaLosses {
    private final CudaKernels kernels;
    private final long stream;
    private final Workspace status; // (1 + blocks) u64: the label count, then the per-block losses
    private final DeferredChecks checks;

    CudaLosses(CudaKernels kernels, long stream, Workspace status, DeferredChecks checks) {
        this.kernels = kernels;
        this.stream = stream;
        this.status = status;
        this.checks = checks;
    }

    void crossEntropyForward(Tensor logits, Tensor labels, int ignoreIndex, boolean averageNonIgnored, Tensor probs,
                             Tensor loss) {
        String op = "softmaxCrossEntropyForward";
        long[] mc = rowsAndColumns(op, logits, labels);
        Check.same(op, "probs", probs, "logits", logits);
        Check.numel(op, "loss", loss, 1);
        long ws = status.reserve(CudaKernels.crossEntropyWorkspaceBytes(mc[0])).address();
        int c = (int) mc[1];
        long bad = checks.claim(key -> CudaKernels.badLabel(op, key, c, ignoreIndex));
        kernels.softmaxCrossEntropyForward(stream, CudaArgs.f32Address(op, "logits", logits),
                CudaArgs.i32Address(op, "labels", labels), mc[0], c, ignoreIndex, averageNonIgnored,
                CudaArgs.f32Address(op, "probs", probs), CudaArgs.f32Address(op, "loss", loss), ws, bad);
    }

    void crossEntropyBackward(Tensor probs, Tensor labels, int ignoreIndex, boolean averageNonIgnored, float scale,
                              Tensor dlogits) {
        String op = "softmaxCrossEntropyBackward";
        long[] mc = rowsAndColumns(op, probs, labels);
        Check.same(op, "dlogits", dlogits, "probs", probs);
        long ws = status.reserve(CudaKernels.crossEntropyWorkspaceBytes(mc[0])).address();
        kernels.softmaxCrossEntropyBackward(stream, CudaArgs.f32Address(op, "probs", probs),
                CudaArgs.i32Address(op, "labels", labels), mc[0], (int) mc[1], ignoreIndex, averageNonIgnored, scale,
                CudaArgs.f32Address(op, "dlogits", dlogits), ws);
    }

    void l2NormalizeForward(Tensor x, float eps, Tensor y, Tensor norms) {
        String op = "l2NormalizeForward";
        Check.that(eps > 0, op, "eps must be positive, got " + eps);
        long[] mc = rowsAndColumns(op, x, null);
        Check.same(op, "y", y, "x", x);
        Check.numel(op, "norms (one per row of x " + x.shape() + ")", norms, mc[0]);
        kernels.l2NormalizeForward(stream, CudaArgs.f32Address(op, "x", x), CudaArgs.f32Address(op, "y", y),
                CudaArgs.f32Address(op, "norms", norms), mc[0], (int) mc[1], eps);
    }

    void l2NormalizeBackward(Tensor y, Tensor norms, float eps, Tensor dy, Tensor dx) {
        String op = "l2NormalizeBackward";
        Check.that(eps > 0, op, "eps must be positive, got " + eps);
        long[] mc = rowsAndColumns(op, y, null);
        Check.same(op, "dy", dy, "y", y);
        Check.same(op, "dx", dx, "y", y);
        Check.numel(op, "norms (one per row of y " + y.shape() + ")", norms, mc[0]);
        kernels.l2NormalizeBackward(stream, CudaArgs.f32Address(op, "y", y), CudaArgs.f32Address(op, "norms", norms),
                CudaArgs.f32Address(op, "dy", dy), CudaArgs.f32Address(op, "dx", dx), mc[0], (int) mc[1], eps);
    }

    /** {rows, last dimension} of {@code t}; labels, when given, one per row. */
    private static long[] rowsAndColumns(String op, Tensor t, Tensor labels) {
        long[] mc = CudaElementwise.rowsAndChannels(op, t);
        if (labels != null) {
            Check.numel(op, "labels (one per row of " + t.shape() + ")", labels, mc[0]);
        }
        return mc;
    }
}
