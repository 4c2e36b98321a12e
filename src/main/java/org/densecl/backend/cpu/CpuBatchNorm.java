package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.f32;
import static org.densecl.backend.cpu.CpuVec.get;
import static org.densecl.backend.cpu.CpuVec.maskAt;
import static org.densecl.backend.cpu.CpuVec.set;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.densecl.backend.Check;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Batch norm (train forward, inference forward, backward, each with an optional fused ReLU) over x
 * seen as (M, C), channels contiguous. Every pass vectorises ACROSS channels and parallelises over
 * row ranges; per-part partial sums meet in double on the calling thread.
 *
 * <p>Statistics are computed blockwise in one read of x: each block sums the deviations from a shift
 * close to the mean (the rows merged so far) and their squares in float, stable even when
 * |mean| >> std, and block results are merged in double with Chan, Golub and LeVeque's pairwise
 * update. So x is read from memory once for the statistics and once for the normalisation.
 *
 * <p>Backward (xhat = (x - mean) * invStd, g = dy masked by y > 0 under ReLU):
 * dbeta = sum g, dgamma = sum g * xhat, dx += gamma * invStd * (g - dbeta/M - xhat * dgamma/M),
 * using this call's sums, not the accumulated dgamma/dbeta.
 */
final class CpuBatchNorm {
    /** Rows per block of float statistics sums: sums of 1024 O(std) terms keep float's accuracy. */
    private static final int STATS_BLOCK = 1024;
    /** Channel counts above this take the row-major statistics (see shiftedSumsRowMajor). */
    static final int ROW_MAJOR_FROM = 256;

    private final Parallel par;
    private final Scratch scratch;

    CpuBatchNorm(Parallel par, Scratch scratch) {
        this.par = par;
        this.scratch = scratch;
    }

    void trainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps, Tensor runningMean,
                      Tensor runningVar, Tensor saveMean, Tensor saveInvStd, Tensor y, boolean relu) {
        trainForward("batchNormTrainForward", x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean,
                saveInvStd, null, y, relu);
    }

    /** y = max(BN(x) + residual, 0): the normalisation pass adds the residual and applies the ReLU. */
    void trainForwardAddRelu(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps, Tensor runningMean,
                             Tensor runningVar, Tensor saveMean, Tensor saveInvStd, Tensor residual, Tensor y) {
        String op = "batchNormTrainForwardAddRelu";
        f32(op, "residual", residual);
        Check.same(op, "residual", residual, "x", x);
        Check.that(residual.data().asOverlappingSlice(y.data()).isEmpty(), op,
                "y may not alias residual " + residual.shape());
        trainForward(op, x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd, residual, y,
                true);
    }

    // residual null: y = BN(x), then ReLU when relu; else y = max(BN(x) + residual, 0) (relu true).
    private void trainForward(String op, Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                              Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd,
                              Tensor residual, Tensor y, boolean relu) {
        // Parallel over row ranges, twice: statistics, then normalisation.
        int c = channels(op, x);
        perChannel(op, c, "gamma", gamma);
        perChannel(op, c, "beta", beta);
        perChannel(op, c, "runningMean", runningMean);
        perChannel(op, c, "runningVar", runningVar);
        perChannel(op, c, "saveMean", saveMean);
        perChannel(op, c, "saveInvStd", saveInvStd);
        f32(op, "y", y);
        Check.same(op, "y", y, "x", x);
        // The statistics pass must finish reading x before any y is written.
        Check.that(x.data().asOverlappingSlice(y.data()).isEmpty(), op, "y may not alias x " + x.shape());
        long m = x.numel() / c;
        Check.that(m > 1, op, "x has shape " + x.shape() + ": one value per channel; training-mode batch norm"
                + " needs more than one (as PyTorch)");

        int parts = CpuVec.parts(par, m, c);
        int cp = padded(c);
        double[] d = scratch.doubles(2 * parts * cp); // partial means (parts, cp), then partial M2 (parts, cp)
        int acc = (3 * cp + 15) / 16 * 16; // per part: shift, sums, sums of squares (3, cp); whole cache lines
        float[] f = scratch.floats(parts * acc + 3 * cp); // accumulators (parts, acc); mean, scale, shift (cp)
        int fMean = parts * acc, fScale = fMean + cp, fShift = fScale + cp;
        MemorySegment xs = x.data();
        par.forEach(parts, p -> statistics(xs, m * p / parts, m * (p + 1) / parts, c,
                d, p * cp, (parts + p) * cp, f, p * acc));

        for (int j = 0; j < c; j++) {
            // Chan's merge of the parts, in row order.
            double n = 0, mean = 0, m2 = 0;
            for (int p = 0; p < parts; p++) {
                double nb = m * (p + 1) / parts - m * p / parts;
                double delta = d[p * cp + j] - mean;
                double total = n + nb;
                mean += delta * nb / total;
                m2 += d[(parts + p) * cp + j] + delta * delta * n * nb / total;
                n = total;
            }
            double var = m2 / m; // biased: what normalises the batch
            double invStd = 1.0 / Math.sqrt(var + eps);
            set(saveMean.data(), j, (float) mean);
            set(saveInvStd.data(), j, (float) invStd);
            MemorySegment rm = runningMean.data(), rv = runningVar.data();
            set(rm, j, (float) ((1 - momentum) * get(rm, j) + momentum * mean));
            set(rv, j, (float) ((1 - momentum) * get(rv, j) + momentum * var * m / (m - 1))); // unbiased
            f[fMean + j] = (float) mean;
            f[fScale + j] = (float) (get(gamma.data(), j) * invStd);
            f[fShift + j] = get(beta.data(), j);
        }
        if (residual == null) {
            normalize(xs, y.data(), m, c, f, fMean, fScale, fShift, relu);
        } else {
            MemorySegment rs = residual.data(), ys = y.data();
            CpuVec.range(par, m, 3L * c, (lo, hi) -> normalizeAddRelu(xs, rs, ys, lo, hi, c, f, fMean, fScale, fShift));
        }
    }

    void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                          float eps, Tensor y, boolean relu) {
        // Parallel over row ranges.
        String op = "batchNormInferenceForward";
        int c = channels(op, x);
        perChannel(op, c, "gamma", gamma);
        perChannel(op, c, "beta", beta);
        perChannel(op, c, "runningMean", runningMean);
        perChannel(op, c, "runningVar", runningVar);
        f32(op, "y", y);
        Check.same(op, "y", y, "x", x);
        int cp = padded(c);
        float[] f = scratch.floats(3 * cp); // mean, scale, shift (cp each)
        for (int j = 0; j < c; j++) {
            f[j] = get(runningMean.data(), j);
            f[cp + j] = (float) (get(gamma.data(), j) / Math.sqrt((double) get(runningVar.data(), j) + eps));
            f[2 * cp + j] = get(beta.data(), j);
        }
        normalize(x.data(), y.data(), x.numel() / c, c, f, 0, cp, 2 * cp, relu);
    }

    void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor y, boolean relu,
                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        // Parallel over row ranges, twice: the two channel sums, then dx.
        String op = "batchNormBackward";
        int c = channels(op, x);
        perChannel(op, c, "gamma", gamma);
        perChannel(op, c, "saveMean", saveMean);
        perChannel(op, c, "saveInvStd", saveInvStd);
        perChannel(op, c, "dgamma", dgamma);
        perChannel(op, c, "dbeta", dbeta);
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        Check.same(op, "dy", dy, "x", x);
        Check.same(op, "dx", dx, "x", x);
        if (relu) {
            Check.that(y != null, op, "relu is set, so y (the post-ReLU output) is required");
            f32(op, "y", y);
            Check.same(op, "y", y, "x", x);
        }
        long m = x.numel() / c;
        int parts = CpuVec.parts(par, m, c);
        int cp = padded(c);
        double[] d = scratch.doubles(2 * parts * cp); // partial sum g (parts, cp), then sum g*(x-mean)
        float[] f = scratch.floats(parts * 2 * L + 4 * cp); // lane buffers (parts, 2L); mean, a, b, k (cp)
        int fMean = parts * 2 * L, fA = fMean + cp, fB = fA + cp, fK = fB + cp;
        for (int j = 0; j < c; j++) {
            f[fMean + j] = get(saveMean.data(), j);
        }
        MemorySegment xs = x.data(), gs = dy.data(), ys = relu ? y.data() : null;
        par.forEach(parts, p -> gradientSums(xs, gs, ys, m * p / parts, m * (p + 1) / parts, c, f, fMean,
                d, p * cp, (parts + p) * cp, p * 2 * L));

        for (int j = 0; j < c; j++) {
            double sumG = 0, sumGxmu = 0;
            for (int p = 0; p < parts; p++) {
                sumG += d[p * cp + j];
                sumGxmu += d[(parts + p) * cp + j];
            }
            double invStd = get(saveInvStd.data(), j);
            double sumGxhat = sumGxmu * invStd;
            set(dbeta.data(), j, (float) (get(dbeta.data(), j) + sumG));
            set(dgamma.data(), j, (float) (get(dgamma.data(), j) + sumGxhat));
            // dx += a * g + b * (x - mean) + k, the formula above with xhat expanded.
            double a = get(gamma.data(), j) * invStd;
            f[fA + j] = (float) a;
            f[fB + j] = (float) (-a * invStd * sumGxhat / m);
            f[fK + j] = (float) (-a * sumG / m);
        }
        MemorySegment dxs = dx.data();
        // Two loops, not one with a branch on ys inside: see gradientSums.
        if (relu) {
            CpuVec.range(par, m, 4L * c, (lo, hi) -> addDxRelu(xs, gs, ys, dxs, accumulate, lo, hi, c, f, fMean));
        } else {
            CpuVec.range(par, m, 4L * c, (lo, hi) -> addDx(xs, gs, dxs, accumulate, lo, hi, c, f, fMean));
        }
    }

    // dx += a * g + b * (x - mean) + k for rows [lo, hi), g = dy. f holds mean, a, b, k (cp each) from fMean.
    // Not accumulate: dx's old value is taken as +0 without reading it, so the bits are those of a zeroed
    // dx. (A flag inside the loop, where relu got two loops (see gradientSums): the models assign every
    // batch-norm gradient, so in training C2 sees one value only and keeps one compiled loop.)
    private static void addDx(MemorySegment xs, MemorySegment gs, MemorySegment dxs, boolean accumulate, long lo,
                              long hi, int c, float[] f, int fMean) {
        int cp = padded(c), fA = fMean + cp, fB = fA + cp, fK = fB + cp;
        for (long r = lo; r < hi; r++) {
            long row = r * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> mk = maskAt(j, c);
                FloatVector g = loadOr(gs, row + j, mk);
                FloatVector xmu = loadOr(xs, row + j, mk).sub(FloatVector.fromArray(F, f, fMean + j));
                FloatVector old = accumulate ? loadOr(dxs, row + j, mk) : FloatVector.zero(F);
                FloatVector v = g.fma(FloatVector.fromArray(F, f, fA + j), old);
                v = xmu.fma(FloatVector.fromArray(F, f, fB + j), v).add(FloatVector.fromArray(F, f, fK + j));
                storeOr(v, dxs, row + j, mk);
            }
        }
    }

    // addDx with g = dy masked by the post-ReLU output y > 0.
    private static void addDxRelu(MemorySegment xs, MemorySegment gs, MemorySegment ys, MemorySegment dxs,
                                  boolean accumulate, long lo, long hi, int c, float[] f, int fMean) {
        int cp = padded(c), fA = fMean + cp, fB = fA + cp, fK = fB + cp;
        for (long r = lo; r < hi; r++) {
            long row = r * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> mk = maskAt(j, c);
                FloatVector g = reluMasked(loadOr(gs, row + j, mk), ys, row + j, mk);
                FloatVector xmu = loadOr(xs, row + j, mk).sub(FloatVector.fromArray(F, f, fMean + j));
                FloatVector old = accumulate ? loadOr(dxs, row + j, mk) : FloatVector.zero(F);
                FloatVector v = g.fma(FloatVector.fromArray(F, f, fA + j), old);
                v = xmu.fma(FloatVector.fromArray(F, f, fB + j), v).add(FloatVector.fromArray(F, f, fK + j));
                storeOr(v, dxs, row + j, mk);
            }
        }
    }

    /**
     * Per-channel mean and M2 (sum of squared deviations) of rows [lo, hi) into d[meanOff + j] and
     * d[m2Off + j]. a[aOff, aOff + 3 * cp) holds this part's per-channel shift K, sum and sum of squares.
     *
     * <p>One read of x: each block of rows sums x - K and (x - K)^2 in float, with K the mean of the rows
     * merged so far (for a part's first block, the mean of its first 16 rows, read twice), so
     * |block mean - K| is a small fraction of the std and M2 = sum (x-K)^2 - (sum (x-K))^2 / n loses
     * nothing to cancellation even when |mean| >> std. Blocks merge in double with Chan et al.'s
     * pairwise update. Channels go four vectors at a time with the eight sums in registers, rows in
     * memory order, so the pass runs at about the speed of a plain read stream.
     */
    private static void statistics(MemorySegment xs, long lo, long hi, int c, double[] d, int meanOff,
                                   int m2Off, float[] a, int aOff) {
        int cp = padded(c);
        int kOff = aOff, sOff = aOff + cp, qOff = aOff + 2 * cp; // shift, sum, sum of squares (cp each)
        for (int j = 0; j < c; j++) {
            d[meanOff + j] = 0;
            d[m2Off + j] = 0;
        }
        // Each element is read once, so a block needs no cache residency: only the float sums' length
        // bounds it, and long blocks keep the per-channel merges few where C is large.
        int block = STATS_BLOCK;
        long seen = 0;
        for (long r0 = lo; r0 < hi; r0 += block) {
            long r1 = Math.min(hi, r0 + block);
            int nb = (int) (r1 - r0);
            if (seen == 0) {
                int first = Math.min(nb, 16);
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> mk = maskAt(j, c);
                    FloatVector sum = FloatVector.zero(F);
                    for (long r = r0; r < r0 + first; r++) {
                        sum = sum.add(loadOr(xs, r * c + j, mk));
                    }
                    sum.div(first).intoArray(a, kOff + j);
                }
            } else {
                for (int j = 0; j < c; j++) {
                    a[kOff + j] = (float) d[meanOff + j];
                }
            }
            if (c > ROW_MAJOR_FROM) {
                shiftedSumsRowMajor(xs, r0, r1, c, a, kOff, sOff, qOff);
            } else {
                int j = 0;
                for (int four = 4 * L; j + four <= c; j += four) {
                    shiftedSums4(xs, r0, r1, c, j, a, kOff, sOff, qOff);
                }
                for (; j < c; j += L) {
                    VectorMask<Float> mk = maskAt(j, c);
                    FloatVector k = FloatVector.fromArray(F, a, kOff + j), sum = FloatVector.zero(F), sq = sum;
                    for (long r = r0; r < r1; r++) {
                        // Masked-off lanes load 0 and have shift 0, so they stay 0.
                        FloatVector dev = loadOr(xs, r * c + j, mk).sub(k);
                        sum = sum.add(dev);
                        sq = dev.fma(dev, sq);
                    }
                    sum.intoArray(a, sOff + j);
                    sq.intoArray(a, qOff + j);
                }
            }
            // Chan et al.'s merge of this block into the part's running mean and M2.
            double total = seen + nb, wMean = nb / total, wM2 = seen * (double) nb / total, invNb = 1.0 / nb;
            for (int j = 0; j < c; j++) {
                double sum = a[sOff + j];
                double blockMean = a[kOff + j] + sum * invNb;
                double blockM2 = a[qOff + j] - sum * sum * invNb;
                double delta = blockMean - d[meanOff + j];
                d[meanOff + j] += delta * wMean;
                d[m2Off + j] += blockM2 + delta * delta * wM2;
            }
            seen += nb;
        }
    }

    /**
     * Sums of x - K and (x - K)^2 over rows [r0, r1), row by row in memory order with the sums in
     * per-channel arrays (in L1), four rows per step. For wide rows: walking four channel vectors down
     * the rows (shiftedSums4) then strides by C * 4 bytes, a new page per row from C = 1024 on, where
     * the hardware prefetcher stops.
     */
    private static void shiftedSumsRowMajor(MemorySegment xs, long r0, long r1, int c, float[] a, int kOff, int sOff,
                                            int qOff) {
        java.util.Arrays.fill(a, sOff, sOff + 2 * padded(c), 0f);
        long r = r0;
        for (; r + 4 <= r1; r += 4) {
            long i = r * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> mk = maskAt(j, c);
                FloatVector k = FloatVector.fromArray(F, a, kOff + j);
                FloatVector d0 = loadOr(xs, i + j, mk).sub(k), d1 = loadOr(xs, i + c + j, mk).sub(k);
                FloatVector d2 = loadOr(xs, i + 2L * c + j, mk).sub(k), d3 = loadOr(xs, i + 3L * c + j, mk).sub(k);
                FloatVector.fromArray(F, a, sOff + j).add(d0.add(d1).add(d2.add(d3))).intoArray(a, sOff + j);
                FloatVector q = d0.fma(d0, d1.mul(d1)).add(d2.fma(d2, d3.mul(d3)));
                FloatVector.fromArray(F, a, qOff + j).add(q).intoArray(a, qOff + j);
            }
        }
        for (; r < r1; r++) {
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> mk = maskAt(j, c);
                FloatVector dev = loadOr(xs, r * c + j, mk).sub(FloatVector.fromArray(F, a, kOff + j));
                FloatVector.fromArray(F, a, sOff + j).add(dev).intoArray(a, sOff + j);
                dev.fma(dev, FloatVector.fromArray(F, a, qOff + j)).intoArray(a, qOff + j);
            }
        }
    }

    /** Sums of x - K and (x - K)^2 over rows [r0, r1) for the four full vectors of channels from j. */
    private static void shiftedSums4(MemorySegment xs, long r0, long r1, int c, int j, float[] a, int kOff,
                                     int sOff, int qOff) {
        FloatVector k0 = FloatVector.fromArray(F, a, kOff + j), k1 = FloatVector.fromArray(F, a, kOff + j + L);
        FloatVector k2 = FloatVector.fromArray(F, a, kOff + j + 2 * L);
        FloatVector k3 = FloatVector.fromArray(F, a, kOff + j + 3 * L);
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
        for (long r = r0; r < r1; r++) {
            long i = r * c + j;
            FloatVector d0 = CpuVec.load(xs, i).sub(k0), d1 = CpuVec.load(xs, i + L).sub(k1);
            FloatVector d2 = CpuVec.load(xs, i + 2 * L).sub(k2), d3 = CpuVec.load(xs, i + 3 * L).sub(k3);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            s2 = s2.add(d2);
            s3 = s3.add(d3);
            q0 = d0.fma(d0, q0);
            q1 = d1.fma(d1, q1);
            q2 = d2.fma(d2, q2);
            q3 = d3.fma(d3, q3);
        }
        s0.intoArray(a, sOff + j);
        s1.intoArray(a, sOff + j + L);
        s2.intoArray(a, sOff + j + 2 * L);
        s3.intoArray(a, sOff + j + 3 * L);
        q0.intoArray(a, qOff + j);
        q1.intoArray(a, qOff + j + L);
        q2.intoArray(a, qOff + j + 2 * L);
        q3.intoArray(a, qOff + j + 3 * L);
    }

    /**
     * Sums of g and g * (x - mean) over rows [lo, hi) into d[sumOff + j] and d[prodOff + j]. The row
     * loops are two methods, with and without the ReLU mask, and the choice is made here, once per
     * column block: with the test on ys inside one shared loop, C2 compiles that loop (and the dx pass)
     * from whichever variant it has seen so far and deoptimises when the other comes, so the time varies
     * from run to run.
     */
    private static void gradientSums(MemorySegment xs, MemorySegment gs, MemorySegment ys, long lo, long hi, int c,
                                     float[] f, int fMean, double[] d, int sumOff, int prodOff, int laneOff) {
        for (int j = 0; j < c; j++) {
            d[sumOff + j] = 0;
            d[prodOff + j] = 0;
        }
        int block = blockRows(c);
        for (long r0 = lo; r0 < hi; r0 += block) {
            long r1 = Math.min(hi, r0 + block);
            for (int j = 0; j < c; j += L) {
                if (ys == null) {
                    columnSums(xs, gs, r0, r1, c, j, f, fMean, laneOff);
                } else {
                    columnSumsRelu(xs, gs, ys, r0, r1, c, j, f, fMean, laneOff);
                }
                int n = Math.min(L, c - j);
                for (int k = 0; k < n; k++) {
                    d[sumOff + j + k] += f[laneOff + k];
                    d[prodOff + j + k] += f[laneOff + L + k];
                }
            }
        }
    }

    // Column vector j's sums of g = dy and g * (x - mean) over rows [r0, r1), into f[laneOff ..] and
    // f[laneOff + L ..]. Two rows per step into separate accumulators (see statistics).
    private static void columnSums(MemorySegment xs, MemorySegment gs, long r0, long r1, int c, int j, float[] f,
                                   int fMean, int laneOff) {
        VectorMask<Float> mk = maskAt(j, c);
        FloatVector mean = FloatVector.fromArray(F, f, fMean + j);
        FloatVector sum = FloatVector.zero(F), sum1 = sum, prod = sum, prod1 = sum;
        long r = r0;
        for (; r + 2 <= r1; r += 2) {
            long i = r * c + j;
            FloatVector g = loadOr(gs, i, mk), g1 = loadOr(gs, i + c, mk);
            sum = sum.add(g);
            sum1 = sum1.add(g1);
            prod = g.fma(loadOr(xs, i, mk).sub(mean), prod);
            prod1 = g1.fma(loadOr(xs, i + c, mk).sub(mean), prod1);
        }
        if (r < r1) {
            FloatVector g = loadOr(gs, r * c + j, mk);
            sum = sum.add(g);
            prod = g.fma(loadOr(xs, r * c + j, mk).sub(mean), prod);
        }
        sum.add(sum1).intoArray(f, laneOff);
        prod.add(prod1).intoArray(f, laneOff + L);
    }

    // columnSums with g = dy masked by the post-ReLU output y > 0.
    private static void columnSumsRelu(MemorySegment xs, MemorySegment gs, MemorySegment ys, long r0, long r1, int c,
                                       int j, float[] f, int fMean, int laneOff) {
        VectorMask<Float> mk = maskAt(j, c);
        FloatVector mean = FloatVector.fromArray(F, f, fMean + j);
        FloatVector sum = FloatVector.zero(F), sum1 = sum, prod = sum, prod1 = sum;
        long r = r0;
        for (; r + 2 <= r1; r += 2) {
            long i = r * c + j;
            FloatVector g = reluMasked(loadOr(gs, i, mk), ys, i, mk);
            FloatVector g1 = reluMasked(loadOr(gs, i + c, mk), ys, i + c, mk);
            sum = sum.add(g);
            sum1 = sum1.add(g1);
            prod = g.fma(loadOr(xs, i, mk).sub(mean), prod);
            prod1 = g1.fma(loadOr(xs, i + c, mk).sub(mean), prod1);
        }
        if (r < r1) {
            FloatVector g = reluMasked(loadOr(gs, r * c + j, mk), ys, r * c + j, mk);
            sum = sum.add(g);
            prod = g.fma(loadOr(xs, r * c + j, mk).sub(mean), prod);
        }
        sum.add(sum1).intoArray(f, laneOff);
        prod.add(prod1).intoArray(f, laneOff + L);
    }

    /**
     * g zeroed where the post-ReLU output y at element i is not positive. Written as g.blend(0, not(y > 0)):
     * C2 compiles the form zero().blend(g, y > 0) to much slower code (docs/performance.md).
     */
    private static FloatVector reluMasked(FloatVector g, MemorySegment ys, long i, VectorMask<Float> mk) {
        return g.blend(0f, loadOr(ys, i, mk).compare(VectorOperators.GT, 0f).not());
    }

    /** y = (x - mean[c]) * scale[c] + shift[c], then max(., 0) when relu. x, y (M, C). */
    private void normalize(MemorySegment xs, MemorySegment ys, long m, int c, float[] f, int fMean, int fScale,
                           int fShift, boolean relu) {
        // Parallel over row ranges. Two loops, not one testing relu inside (see gradientSums).
        if (relu) {
            CpuVec.range(par, m, 2L * c, (lo, hi) -> normalizeRows(xs, ys, lo, hi, c, f, fMean, fScale, fShift, true));
        } else {
            CpuVec.range(par, m, 2L * c, (lo, hi) -> normalizeRows(xs, ys, lo, hi, c, f, fMean, fScale, fShift, false));
        }
    }

    // Rows [lo, hi) of normalize. Each call site passes relu as a constant, so where C2 inlines this into
    // the two lambdas above, each copy has its loop without the test.
    private static void normalizeRows(MemorySegment xs, MemorySegment ys, long lo, long hi, int c, float[] f,
                                      int fMean, int fScale, int fShift, boolean relu) {
        for (long r = lo; r < hi; r++) {
            long row = r * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> mk = maskAt(j, c);
                FloatVector v = loadOr(xs, row + j, mk).sub(FloatVector.fromArray(F, f, fMean + j))
                        .fma(FloatVector.fromArray(F, f, fScale + j), FloatVector.fromArray(F, f, fShift + j));
                if (relu) {
                    v = v.max(0f);
                }
                storeOr(v, ys, row + j, mk);
            }
        }
    }

    // Rows [lo, hi) of y = max(((x - mean) * scale + shift) + residual, 0): normalizeRows's value, then
    // addRelu's arithmetic on it, so the bits are those of the two ops one after the other.
    private static void normalizeAddRelu(MemorySegment xs, MemorySegment rs, MemorySegment ys, long lo, long hi,
                                         int c, float[] f, int fMean, int fScale, int fShift) {
        for (long r = lo; r < hi; r++) {
            long row = r * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> mk = maskAt(j, c);
                FloatVector v = loadOr(xs, row + j, mk).sub(FloatVector.fromArray(F, f, fMean + j))
                        .fma(FloatVector.fromArray(F, f, fScale + j), FloatVector.fromArray(F, f, fShift + j));
                storeOr(v.add(loadOr(rs, row + j, mk)).max(0f), ys, row + j, mk);
            }
        }
    }

    /**
     * Rows per block of the backward's float sums: about 128 KiB of x, at most 1024 rows, at least 32 so
     * the per-channel adds into double (once per block) stay small next to the block.
     */
    private static int blockRows(int c) {
        return Math.max(32, Math.min(1024, 32768 / c));
    }

    private static int padded(int c) {
        return (c + L - 1) / L * L;
    }

    /** x is F32 with at least one dimension; returns its channel count C (the last dimension). */
    private static int channels(String op, Tensor x) {
        f32(op, "x", x);
        Check.that(x.shape().rank() >= 1 && x.shape().last() > 0, op,
                "x has shape " + x.shape() + " but (..., C) with C > 0 is required");
        return x.shape().last();
    }

    /** A per-channel tensor must be F32 of shape (C). */
    private static void perChannel(String op, int c, String name, Tensor t) {
        f32(op, name, t);
        if (t.shape().rank() != 1 || t.shape().dim(0) != c) {
            Check.shape(op, name, t, Shape.of(c));
        }
    }

    // CpuVec.loadOr and storeOr, copied so that their test of m has a branch profile of its own: a method's
    // profile is shared by all its callers, and with a 1000-class softmax's tails in it C2 compiles the masked
    // path into these loops too, and boxes the vectors where the two paths meet. The batch norm sees tails
    // only where its channels do not fill whole vectors.
    private static FloatVector loadOr(MemorySegment s, long i, VectorMask<Float> m) {
        return m == null ? CpuVec.load(s, i) : CpuVec.load(s, i, m);
    }

    private static void storeOr(FloatVector v, MemorySegment s, long i, VectorMask<Float> m) {
        if (m == null) {
            CpuVec.store(v, s, i);
        } else {
            CpuVec.store(v, s, i, m);
        }
    }
}
