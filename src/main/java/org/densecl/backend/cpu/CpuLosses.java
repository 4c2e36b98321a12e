package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.f32;
import static org.densecl.backend.cpu.CpuVec.get;
import static org.densecl.backend.cpu.CpuVec.getInt;
import static org.densecl.backend.cpu.CpuVec.loadOr;
import static org.densecl.backend.cpu.CpuVec.maskAt;
import static org.densecl.backend.cpu.CpuVec.set;
import static org.densecl.backend.cpu.CpuVec.storeOr;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.densecl.backend.Check;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * Row-wise kernels over (M, C): per-pixel softmax cross-entropy (with an ignore index and both
 * reductions) and L2 normalisation, forward and backward. Each row is independent, so all of them
 * run parallel over row ranges and vectorise along the row (masked last vector).
 */
final class CpuLosses {
    private final Parallel par;
    private final Scratch scratch;

    CpuLosses(Parallel par, Scratch scratch) {
        this.par = par;
        this.scratch = scratch;
    }

    /** logits, probs (M, C); labels I32 (M); loss (1). */
    void crossEntropyForward(Tensor logits, Tensor labels, int ignoreIndex, boolean averageNonIgnored, Tensor probs,
                             Tensor loss) {
        // Parallel over row ranges; per-part loss sums and counts meet on the calling thread.
        String op = "softmaxCrossEntropyForward";
        int c = rowsOf(op, "logits", logits);
        long m = logits.numel() / c;
        f32(op, "probs", probs);
        f32(op, "loss", loss);
        Check.same(op, "probs", probs, "logits", logits);
        checkLabels(op, labels, m);
        Check.numel(op, "loss", loss, 1);
        int parts = CpuVec.parts(par, m, 4L * c);
        double[] sums = scratch.doubles(parts); // loss sum per part
        long[] counts = scratch.longs(2 * parts); // non-ignored count per part, then first bad pixel or -1
        MemorySegment xs = logits.data(), ls = labels.data(), ps = probs.data();
        par.forEach(parts, p -> {
            long lo = m * p / parts, hi = m * (p + 1) / parts, count = 0, bad = -1;
            double sum = 0;
            for (long r = lo; r < hi; r++) {
                long row = r * c;
                double logSumExp = softmaxRow(xs, ps, row, c);
                int label = getInt(ls, r);
                if (label == ignoreIndex) {
                    continue;
                }
                if (label < 0 || label >= c) {
                    bad = bad < 0 ? r : bad;
                    continue;
                }
                // -log softmax[label] = log(sum exp x) - x[label], without forming a tiny probability.
                sum += logSumExp - get(xs, row + label);
                count++;
            }
            sums[p] = sum;
            counts[p] = count;
            counts[parts + p] = bad;
        });
        throwOnBadLabel(op, labels, counts, parts, ignoreIndex, c);
        double total = 0;
        long count = 0;
        for (int p = 0; p < parts; p++) {
            total += sums[p];
            count += counts[p];
        }
        double denom = averageNonIgnored ? count : m;
        set(loss.data(), 0, denom > 0 ? (float) (total / denom) : 0f);
    }

    /** probs[row] = softmax(x[row]) over c values; returns log(sum exp x[row]) = max + log(sum exp(x - max)). */
    private static double softmaxRow(MemorySegment xs, MemorySegment ps, long row, int c) {
        if (c < L) {
            return softmaxShortRow(xs, ps, row, c);
        }
        FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < c; j += L) {
            VectorMask<Float> mk = maskAt(j, c);
            FloatVector v = loadOr(xs, row + j, mk);
            mx = mk == null ? mx.max(v) : mx.lanewise(VectorOperators.MAX, v, mk);
        }
        float max = mx.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(F);
        for (int j = 0; j < c; j += L) {
            VectorMask<Float> mk = maskAt(j, c);
            FloatVector e = CpuVec.exp(loadOr(xs, row + j, mk).sub(max));
            storeOr(e, ps, row + j, mk);
            sum = mk == null ? sum.add(e) : sum.add(e, mk);
        }
        float total = CpuVec.sumLanes(sum);
        float inv = 1f / total;
        for (int j = 0; j < c; j += L) {
            VectorMask<Float> mk = maskAt(j, c);
            storeOr(loadOr(ps, row + j, mk).mul(inv), ps, row + j, mk);
        }
        return max + Math.log(total);
    }

    /**
     * softmaxRow for a row shorter than a vector (a 2-class segmentation's pixels), one float at a time: the
     * same steps and order of sums, so the same bits. As a masked vector per row it cost more than the row,
     * and C2 left the masked loads out of line: a boxed vector and mask per row.
     */
    private static double softmaxShortRow(MemorySegment xs, MemorySegment ps, long row, int c) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, get(xs, row + j));
        }
        float total = 0f;
        for (int j = 0; j < c; j++) {
            float e = CpuVec.exp(get(xs, row + j) - max);
            set(ps, row + j, e);
            total += e;
        }
        float inv = 1f / total;
        for (int j = 0; j < c; j++) {
            set(ps, row + j, get(ps, row + j) * inv);
        }
        return max + Math.log(total);
    }

    /** dlogits += scale * (probs - onehot(label)) / denominator; ignored rows get nothing. */
    void crossEntropyBackward(Tensor probs, Tensor labels, int ignoreIndex, boolean averageNonIgnored, float scale,
                              Tensor dlogits) {
        // Parallel over row ranges, twice: count and validate the labels, then add the gradient.
        String op = "softmaxCrossEntropyBackward";
        int c = rowsOf(op, "probs", probs);
        long m = probs.numel() / c;
        f32(op, "dlogits", dlogits);
        Check.same(op, "dlogits", dlogits, "probs", probs);
        checkLabels(op, labels, m);
        int parts = CpuVec.parts(par, m, 8);
        long[] counts = scratch.longs(2 * parts); // non-ignored count per part, then first bad pixel or -1
        MemorySegment ls = labels.data(), ps = probs.data(), gs = dlogits.data();
        par.forEach(parts, p -> {
            long count = 0, bad = -1;
            for (long r = m * p / parts, hi = m * (p + 1) / parts; r < hi; r++) {
                int label = getInt(ls, r);
                if (label != ignoreIndex) {
                    count++;
                    if ((label < 0 || label >= c) && bad < 0) {
                        bad = r;
                    }
                }
            }
            counts[p] = count;
            counts[parts + p] = bad;
        });
        throwOnBadLabel(op, labels, counts, parts, ignoreIndex, c);
        long count = 0;
        for (int p = 0; p < parts; p++) {
            count += counts[p];
        }
        double denom = averageNonIgnored ? count : m;
        if (denom == 0) {
            return; // every pixel ignored: the loss is the constant 0
        }
        float factor = (float) (scale / denom);
        FloatVector vf = FloatVector.broadcast(F, factor);
        CpuVec.range(par, m, 3L * c, (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                int label = getInt(ls, r);
                if (label == ignoreIndex) {
                    continue;
                }
                long row = r * c;
                // The label's element is set apart so that factor * (p - 1) is formed exactly, not as the
                // difference of two nearly equal terms.
                float before = get(gs, row + label), pLabel = get(ps, row + label);
                if (c < L) { // a row shorter than a vector: one float at a time (see softmaxShortRow), the same fma
                    for (int j = 0; j < c; j++) {
                        set(gs, row + j, Math.fma(get(ps, row + j), factor, get(gs, row + j)));
                    }
                } else {
                    for (int j = 0; j < c; j += L) {
                        VectorMask<Float> mk = maskAt(j, c);
                        storeOr(loadOr(ps, row + j, mk).fma(vf, loadOr(gs, row + j, mk)), gs, row + j, mk);
                    }
                }
                set(gs, row + label, before + factor * (pLabel - 1f));
            }
        });
    }

    /** y = x / max(||x||, eps) per row; norms[r] = ||x[r]|| (unclamped). x, y (M, C), norms (M). */
    void l2NormalizeForward(Tensor x, float eps, Tensor y, Tensor norms) {
        // Parallel over row ranges.
        String op = "l2NormalizeForward";
        Check.that(eps > 0, op, "eps must be positive, got " + eps);
        int c = rowsOf(op, "x", x);
        long m = x.numel() / c;
        f32(op, "y", y);
        f32(op, "norms", norms);
        Check.same(op, "y", y, "x", x);
        Check.numel(op, "norms", norms, m);
        MemorySegment xs = x.data(), ys = y.data(), ns = norms.data();
        CpuVec.range(par, m, 3L * c, (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                long row = r * c;
                FloatVector ss = FloatVector.zero(F);
                for (int j = 0; j < c; j += L) {
                    FloatVector v = loadOr(xs, row + j, maskAt(j, c));
                    ss = v.fma(v, ss);
                }
                float norm = (float) Math.sqrt(CpuVec.sumLanes(ss));
                set(ns, r, norm);
                float d = Math.max(norm, eps);
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> mk = maskAt(j, c);
                    storeOr(loadOr(xs, row + j, mk).div(d), ys, row + j, mk);
                }
            }
        });
    }

    /** dx += (dy - y * (y . dy)) / ||x|| per row, or dy / eps where ||x|| < eps. */
    void l2NormalizeBackward(Tensor y, Tensor norms, float eps, Tensor dy, Tensor dx) {
        // Parallel over row ranges.
        String op = "l2NormalizeBackward";
        Check.that(eps > 0, op, "eps must be positive, got " + eps);
        int c = rowsOf(op, "y", y);
        long m = y.numel() / c;
        f32(op, "norms", norms);
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        Check.numel(op, "norms", norms, m);
        Check.same(op, "dy", dy, "y", y);
        Check.same(op, "dx", dx, "y", y);
        MemorySegment ys = y.data(), ns = norms.data(), gs = dy.data(), xs = dx.data();
        CpuVec.range(par, m, 5L * c, (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                long row = r * c;
                float norm = get(ns, r);
                if (norm < eps) {
                    // Below eps the divisor is the constant eps, so the map is linear: dx += dy / eps.
                    for (int j = 0; j < c; j += L) {
                        VectorMask<Float> mk = maskAt(j, c);
                        storeOr(loadOr(gs, row + j, mk).div(eps).add(loadOr(xs, row + j, mk)), xs, row + j, mk);
                    }
                    continue;
                }
                FloatVector dot = FloatVector.zero(F);
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> mk = maskAt(j, c);
                    dot = loadOr(ys, row + j, mk).fma(loadOr(gs, row + j, mk), dot);
                }
                float yDotDy = CpuVec.sumLanes(dot);
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> mk = maskAt(j, c);
                    FloatVector g = loadOr(ys, row + j, mk).mul(-yDotDy).add(loadOr(gs, row + j, mk)).div(norm);
                    storeOr(g.add(loadOr(xs, row + j, mk)), xs, row + j, mk);
                }
            }
        });
    }

    /** t is F32 and at least rank 1 with a positive last dimension; returns that dimension. */
    private static int rowsOf(String op, String arg, Tensor t) {
        f32(op, arg, t);
        Check.that(t.shape().rank() >= 1 && t.shape().last() > 0, op,
                arg + " has shape " + t.shape() + " but (M, C) with C > 0 is required");
        return t.shape().last();
    }

    private static void checkLabels(String op, Tensor labels, long m) {
        Check.dtype(op, "labels", labels, DType.I32);
        Check.numel(op, "labels", labels, m);
    }

    /** Throws for the lowest pixel any part found with a label outside [0, c) and not ignoreIndex. */
    private static void throwOnBadLabel(String op, Tensor labels, long[] counts, int parts, int ignoreIndex, int c) {
        long first = -1;
        for (int p = 0; p < parts; p++) {
            long bad = counts[parts + p];
            if (bad >= 0 && (first < 0 || bad < first)) {
                first = bad;
            }
        }
        if (first >= 0) {
            throw new IllegalArgumentException(op + ": label " + getInt(labels.data(), first) + " at pixel " + first
                    + " is outside [0, " + c + ") and is not the ignore index " + ignoreIndex);
        }
    }
}
