package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.getInt;
import static org.densecl.backend.cpu.CpuVec.loadOr;
import static org.densecl.backend.cpu.CpuVec.maskAt;
import static org.densecl.backend.cpu.CpuVec.storeOr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.densecl.backend.Check;
import org.densecl.backend.ContrastiveChecks;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * The cpu backend's DenseCL contrastive kernels (contracts: Backend#denseMatch, #denseGather,
 * #infoNceLoss). Everything of GEMM shape goes through the backend's {@link CpuGemm}, so it runs at GEMM
 * speed with either provider; what is left is O(rows x K) row work (max, exp, sums), split over rows.
 *
 * <p>Scratch: the similarity matrices (N, S2, S2) of the matching, one block of logits (BLOCK_ROWS, K)
 * and its gradient GEMM's output (BLOCK_ROWS, D) of the loss are native segments grown once to the largest size seen (native because
 * OpenBLAS reads them), so steady-state steps allocate nothing. They make the two ops {@code synchronized}:
 * one call at a time per backend, which is also what the GEMM itself allows.
 */
final class CpuContrastive {
    /**
     * Rows of logits per block. 256 rows keep the GEMMs of a block large enough to run at full GEMM speed
     * (its A panel, 256 x D, is reused across all K columns) while bounding the scratch: 256 x 4096 floats
     * (4 MiB, about the last-level cache share of one core group) for the global queue size of the
     * benchmarks, 64 MiB at K = 65536 instead of the 0.4 GB of whole dense logits (spec 2.3).
     */
    static final int BLOCK_ROWS = 256;

    private final Parallel par;
    private final CpuGemm gemm;
    private final Scratch scratch;
    private MemorySegment sim = MemorySegment.NULL;       // (N, S2, S2) similarity matrices
    private MemorySegment logits = MemorySegment.NULL;    // (BLOCK_ROWS, K) logits, then exp(z - row max)
    private MemorySegment blockGrad = MemorySegment.NULL; // (BLOCK_ROWS, D) exp(z - row max) queue

    // The InfoNCE call in flight, read by the row bodies on the worker threads (the Parallel hand-off
    // publishes it). Fields rather than captured locals, so that a call allocates no lambdas.
    private final IntConsumer softmaxPart = this::softmaxPart;
    private final Parallel.RangeBody updateBody = this::updateRows;
    private MemorySegment nceU, ncePos, nceDu;  // anchors, positives, dAnchors (R, D); nceDu null: loss only
    private double[] rowLoss;                   // (block) CE of each row of the block
    private float[] rowCoef;                    // (2, block) w / tau / sum, then w / tau * (p_0 - 1)
    private int nceK, nceD, nceBlock, blockFirst, blockRows, softmaxParts;
    private float invTau, gradScale;

    CpuContrastive(Parallel par, CpuGemm gemm, Scratch scratch) {
        this.par = par;
        this.gemm = gemm;
        this.scratch = scratch;
    }

    /** qb, kb (N, S2, C); indices I32 (N, S2) = argmax_j Sim[n, i, j], first index on ties. */
    synchronized void denseMatch(Tensor qb, Tensor kb, Tensor indices) {
        String op = "denseMatch";
        CpuVec.f32(op, "qb", qb);
        CpuVec.f32(op, "kb", kb);
        Check.dtype(op, "indices", indices, DType.I32);
        ContrastiveChecks.denseMatch(qb, kb, indices);
        int n = qb.shape().dim(0), s2 = qb.shape().dim(1), c = qb.shape().dim(2);
        long simFloats = (long) n * s2 * s2;
        sim = grow(sim, simFloats);
        MemorySegment q = qb.data(), k = kb.data(), s = sim, idx = indices.data();
        long imageBytes = 4L * s2 * c;
        for (int img = 0; img < n; img++) {
            // Sim[img] = qb[img] kb[img]^T: (S2, C) x (C, S2), one GEMM per image (2 * S2^2 * C flops).
            gemm.gemm(false, true, s2, s2, c, 1f, q.asSlice(img * imageBytes, imageBytes),
                    k.asSlice(img * imageBytes, imageBytes), 0f, s, 4L * img * s2 * s2);
        }
        // Parallel over query rows (n, i); the argmax is a scalar scan, S2 per row (C times less than the GEMM).
        CpuVec.range(par, (long) n * s2, s2, (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                long base = row * s2;
                int best = 0;
                float bestSim = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < s2; j++) {
                    float v = CpuVec.get(s, base + j);
                    if (v > bestSim) { // strictly greater: ties keep the first index, NaN never wins
                        bestSim = v;
                        best = j;
                    }
                }
                idx.setAtIndex(CpuVec.I32, row, best);
            }
        });
    }

    /** grid (N, S2, D), indices I32 (N, S2), out (N, S2, D): out[n, i] = grid[n, indices[n, i]]. */
    void denseGather(Tensor grid, Tensor indices, Tensor out) {
        String op = "denseGather";
        CpuVec.f32(op, "grid", grid);
        CpuVec.f32(op, "out", out);
        Check.dtype(op, "indices", indices, DType.I32);
        ContrastiveChecks.denseGather(grid, indices, out);
        int n = grid.shape().dim(0), s2 = grid.shape().dim(1), d = grid.shape().dim(2);
        MemorySegment g = grid.data(), o = out.data(), idx = indices.data();
        // Parallel over output rows (n, i): one contiguous D-float copy each.
        CpuVec.range(par, (long) n * s2, d, (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                int j = getInt(idx, row);
                long img = row / s2;
                Check.that(j >= 0 && j < s2, op, "indices[" + img + ", " + (row % s2) + "] = " + j
                        + " is outside [0, " + s2 + ") for grid " + grid.shape());
                MemorySegment.copy(g, 4L * (img * s2 + j) * d, o, 4L * row * d, 4L * d);
            }
        });
    }

    /**
     * anchors, positives (R, D), queue (K, D) rows of keys; loss (1) = w * sum of row CE (overwritten);
     * dAnchors (R, D) accumulated, or null. Row blocks of {@link #BLOCK_ROWS}, per block:
     * <ol>
     *   <li>GEMM: z (rows, K) = u queue^T / tau;</li>
     *   <li>row-parallel: the row max, then z = exp(z - max) and its sum in one pass (the row, up to 256 KB,
     *       is still in L2 from the max pass), the row's CE and its two gradient coefficients;</li>
     *   <li>GEMM: G (rows, D) = exp(z - max) queue;</li>
     *   <li>du += (w / tau / sum) G + w / tau (p_0 - 1) pos, O(rows x D).</li>
     * </ol>
     * The softmax's 1 / sum is applied to G (rows x D) rather than to the logits (rows x K): one pass fewer
     * over the largest buffer. Every row is computed alone in a fixed order and the rows' losses are added
     * in row order, so the result does not depend on the thread count.
     */
    synchronized void infoNce(Tensor anchors, Tensor positives, Tensor queue, float tau, float w, Tensor loss,
                              Tensor dAnchors) {
        String op = "infoNceLoss";
        CpuVec.f32(op, "anchors", anchors);
        CpuVec.f32(op, "positives", positives);
        CpuVec.f32(op, "queue", queue);
        CpuVec.f32(op, "loss", loss);
        ContrastiveChecks.infoNce(anchors, positives, queue, tau, loss, dAnchors);
        int r = anchors.shape().dim(0), d = anchors.shape().dim(1), k = queue.shape().dim(0);
        if (dAnchors != null) {
            CpuVec.f32(op, "dAnchors", dAnchors);
        }
        int block = Math.max(1, Math.min(r, BLOCK_ROWS));
        logits = grow(logits, (long) block * k);
        blockGrad = grow(blockGrad, (long) block * d);
        rowLoss = scratch.doubles(block);
        rowCoef = scratch.floats(2 * block);
        nceU = anchors.data();
        ncePos = positives.data();
        nceDu = dAnchors == null ? null : dAnchors.data();
        nceK = k;
        nceBlock = block;
        nceD = d;
        invTau = 1f / tau;
        gradScale = w / tau;
        MemorySegment qs = queue.data();
        double total = 0;
        try {
            for (int r0 = 0; r0 < r; r0 += block) {
                int rows = Math.min(block, r - r0);
                blockFirst = r0;
                gemm.gemm(false, true, rows, k, d, invTau, nceU.asSlice(4L * r0 * d, 4L * rows * d), qs, 0f,
                        logits, 0L);
                softmax(rows, k);
                for (int i = 0; i < rows; i++) {
                    total += rowLoss[i]; // in row order: the same sum for any thread count
                }
                if (nceDu != null) {
                    gemm.gemm(false, false, rows, d, k, 1f, logits.asSlice(0, 4L * rows * k), qs, 0f, blockGrad, 0L);
                    CpuVec.range(par, rows, 2L * d, updateBody);
                }
            }
        } finally {
            nceU = ncePos = nceDu = null;
        }
        loss.setFloat(0, (float) (w * total));
    }

    /**
     * The block's rows in up to 4 parts per thread, handed out dynamically by {@link Parallel}: when
     * another process holds one core for a while, the other thread takes its rows instead of waiting for
     * a fixed half to finish (the benchmark machine's 2 cores are shared). Rows are independent, so the
     * split does not change any result.
     */
    private void softmax(int rows, int k) {
        long byWork = (long) rows * k * 4 / CpuVec.GRAIN; // ~4 operations per logit (max, exp, store, sum)
        int parts = (int) Math.max(1, Math.min(Math.min(4L * par.threads(), rows), byWork));
        blockRows = rows;
        softmaxParts = parts;
        if (parts == 1) {
            softmaxRows(0, rows);
        } else {
            par.forEach(parts, softmaxPart);
        }
    }

    private void softmaxPart(int p) {
        softmaxRows((long) blockRows * p / softmaxParts, (long) blockRows * (p + 1) / softmaxParts);
    }

    /**
     * Rows [lo, hi) of the block in flight: the row's CE into rowLoss[i]; rowCoef[i] = w / tau / sum and
     * rowCoef[block + i] = w / tau * (p_0 - 1), where sum = e^(s0 - max) + sum_j e^(z_j - max) and s0 is the
     * positive's logit. The scalar exp and log are StrictMath's, whose bits are fixed in every JIT tier.
     */
    private void softmaxRows(long lo, long hi) {
        int k = nceK, d = nceD, block = nceBlock;
        for (int i = (int) lo; i < hi; i++) {
            float s0 = dot(nceU, ncePos, (long) (blockFirst + i) * d, d) * invTau;
            long off = (long) i * k;
            float max = Math.max(s0, rowMax(logits, off, k));
            double e0 = StrictMath.exp(s0 - max);
            double sum = e0 + expRow(logits, off, k, max);
            rowLoss[i] = max + StrictMath.log(sum) - s0;
            rowCoef[i] = (float) (gradScale / sum);
            rowCoef[block + i] = (float) (gradScale * (e0 / sum - 1));
        }
    }

    /** Rows [lo, hi) of the block in flight: du[row] += rowCoef[i] * G[i] + rowCoef[block + i] * pos[row]. */
    private void updateRows(long lo, long hi) {
        int d = nceD, block = nceBlock;
        for (int i = (int) lo; i < hi; i++) {
            long row = (long) (blockFirst + i) * d;
            update(nceDu, row, blockGrad, (long) i * d, rowCoef[i], ncePos, rowCoef[block + i], d);
        }
    }

    /**
     * The largest of z[off .. off + k). Its own small method, like {@link #expRow}: inlined into one large
     * method, C2 runs out of inlining budget and boxes a vector per iteration.
     */
    private static float rowMax(MemorySegment z, long off, int k) {
        FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int main = CpuVec.bound(k);
        for (int j = 0; j < main; j += L) {
            mx = mx.max(CpuVec.load(z, off + j));
        }
        if (main < k) {
            VectorMask<Float> mk = CpuVec.tail(main, k);
            mx = mx.lanewise(VectorOperators.MAX, CpuVec.load(z, off + main, mk), mk);
        }
        float m = Float.NEGATIVE_INFINITY;
        for (int l = 0; l < L; l++) {
            m = Math.max(m, mx.lane(l));
        }
        return m;
    }

    /** z[off .. off + k) = exp(z - max); returns their sum: one vector of partial sums, lanes added in order. */
    private static float expRow(MemorySegment z, long off, int k, float max) {
        FloatVector sum = FloatVector.zero(F);
        int main = CpuVec.bound(k);
        for (int j = 0; j < main; j += L) {
            FloatVector e = CpuVec.exp(CpuVec.load(z, off + j).sub(max));
            CpuVec.store(e, z, off + j);
            sum = sum.add(e);
        }
        return main < k ? CpuVec.sumLanes(sum) + expTail(z, off, main, k, max) : CpuVec.sumLanes(sum);
    }

    /** expRow's last, partial vector z[off + main .. off + k): exp in place, returns the sum of its lanes. */
    private static float expTail(MemorySegment z, long off, int main, int k, float max) {
        VectorMask<Float> mk = CpuVec.tail(main, k);
        FloatVector e = CpuVec.exp(CpuVec.load(z, off + main, mk).sub(max));
        CpuVec.store(e, z, off + main, mk);
        return CpuVec.sumLanes(e.blend(0f, mk.not())); // not zero().blend(e, mk): see CpuBatchNorm
    }

    /** a[off .. off + d) . b[off .. off + d), float lanes. */
    private static float dot(MemorySegment a, MemorySegment b, long off, int d) {
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < d; c += L) {
            VectorMask<Float> mk = maskAt(c, d);
            acc = loadOr(a, off + c, mk).fma(loadOr(b, off + c, mk), acc);
        }
        return CpuVec.sumLanes(acc);
    }

    /** y[yOff .. yOff + d) += alpha * x[xOff ..] + beta * p[yOff ..] (p shares y's row offset). */
    private static void update(MemorySegment y, long yOff, MemorySegment x, long xOff, float alpha, MemorySegment p,
                               float beta, int d) {
        FloatVector a = FloatVector.broadcast(F, alpha), b = FloatVector.broadcast(F, beta);
        for (int c = 0; c < d; c += L) {
            VectorMask<Float> mk = maskAt(c, d);
            FloatVector v = loadOr(x, xOff + c, mk).fma(a, loadOr(y, yOff + c, mk));
            storeOr(loadOr(p, yOff + c, mk).fma(b, v), y, yOff + c, mk);
        }
    }

    /** {@code seg} if it holds {@code floats} floats, else a new native segment (freed when unreachable). */
    private static MemorySegment grow(MemorySegment seg, long floats) {
        if (seg.byteSize() >= 4L * floats) {
            return seg;
        }
        return Arena.ofAuto().allocate(Math.max(64, 4L * floats + 4L * floats / 4), 64);
    }
}
