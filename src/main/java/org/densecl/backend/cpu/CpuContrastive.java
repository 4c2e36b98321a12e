package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.getInt;
import static org.densecl.backend.cpu.CpuVec.loadOr;
import static org.densecl.backend.cpu.CpuVec.maskAt;
import static org.densecl.backend.cpu.CpuVec.storeOr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.densecl.backend.Check;
import org.densecl.backend.ContrastiveChecks;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * The cpu backend's DenseCL contrastive kernels (contracts: Backend#denseMatch, #denseGather,
 * #infoNceLoss). Everything of GEMM shape goes through the backend's {@link CpuGemm}, so it runs at GEMM
 * speed with either provider; what is left is O(rows x K) row work (max, exp, sums), split over rows.
 *
 * <p>Scratch: the similarity matrices (N, S2, S2) of the matching and one block of logits
 * (BLOCK_ROWS, K) of the loss are native segments grown once to the largest size seen (native because
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
    private MemorySegment sim = MemorySegment.NULL;    // (N, S2, S2) similarity matrices
    private MemorySegment logits = MemorySegment.NULL; // (BLOCK_ROWS, K) logits, then scaled probabilities

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
     * dAnchors (R, D) accumulated, or null. Row blocks of {@link #BLOCK_ROWS}: per block one GEMM for the
     * negative logits, row-parallel softmax, one GEMM (beta = 1) for the queue part of the gradient.
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
        double[] rowLoss = scratch.doubles(block); // (block) CE of each row
        float[] coef0 = scratch.floats(block);     // (block) w / tau * (p_0 - 1), the positive's weight
        MemorySegment u = anchors.data(), pos = positives.data(), qs = queue.data(), z = logits;
        MemorySegment du = dAnchors == null ? null : dAnchors.data();
        float invTau = 1f / tau, scale = w / tau;
        double total = 0;
        for (int r0 = 0; r0 < r; r0 += block) {
            final int first = r0, rows = Math.min(block, r - r0);
            // z (rows, K) = u[r0 : r0 + rows] queue^T / tau.
            gemm.gemm(false, true, rows, k, d, invTau, u.asSlice(4L * first * d, 4L * rows * d), qs, 0f, z, 0L);
            // Parallel over the block's rows: softmax with the positive logit as column 0.
            CpuVec.range(par, rows, (long) k * 4, (lo, hi) -> {
                for (int i = (int) lo; i < hi; i++) {
                    long uRow = (long) (first + i) * d;
                    float s0 = dot(u, pos, uRow, d) * invTau;
                    rowLoss[i] = softmaxRow(z, (long) i * k, k, s0, du != null ? scale : 0f, coef0, i);
                }
            });
            for (int i = 0; i < rows; i++) {
                total += rowLoss[i]; // in row order: the same sum for any thread count
            }
            if (du == null) {
                continue;
            }
            // du[r0 : r0 + rows] += P queue, P the block of w / tau * p_{1..K}: (rows, K) x (K, D).
            gemm.gemm(false, false, rows, d, k, 1f, z.asSlice(0, 4L * rows * k), qs, 1f, du, 4L * first * d);
            CpuVec.range(par, rows, d, (lo, hi) -> {
                for (int i = (int) lo; i < hi; i++) {
                    axpy(coef0[i], pos, du, (long) (first + i) * d, d);
                }
            });
        }
        loss.setFloat(0, (float) (w * total));
    }

    /**
     * One row: logits z[off .. off + K) (the negatives) and s0 (the positive). Returns the row's CE,
     * logsumexp - s0. When scale != 0, overwrites the row with scale * p_{1..K} and sets coef0[i] =
     * scale * (p_0 - 1); the row is first overwritten with exp(z - max), so exp runs once per logit.
     */
    private static double softmaxRow(MemorySegment z, long off, int k, float s0, float scale, float[] coef0,
                                     int i) {
        FloatVector mx = FloatVector.broadcast(F, s0);
        for (int j = 0; j < k; j += L) {
            VectorMask<Float> mk = maskAt(j, k);
            FloatVector v = loadOr(z, off + j, mk);
            mx = mk == null ? mx.max(v) : mx.lanewise(VectorOperators.MAX, v, mk);
        }
        float max = mx.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(F);
        for (int j = 0; j < k; j += L) {
            VectorMask<Float> mk = maskAt(j, k);
            FloatVector e = CpuVec.exp(loadOr(z, off + j, mk).sub(max));
            storeOr(e, z, off + j, mk);
            sum = mk == null ? sum.add(e) : sum.add(e, mk);
        }
        double e0 = Math.exp(s0 - max);
        double total = e0 + CpuVec.sumLanes(sum);
        if (scale != 0f) {
            float factor = (float) (scale / total);
            for (int j = 0; j < k; j += L) {
                VectorMask<Float> mk = maskAt(j, k);
                storeOr(loadOr(z, off + j, mk).mul(factor), z, off + j, mk);
            }
            coef0[i] = (float) (scale * (e0 / total - 1));
        }
        return max + Math.log(total) - s0;
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

    /** y[off .. off + d) += alpha * x[off .. off + d). */
    private static void axpy(float alpha, MemorySegment x, MemorySegment y, long off, int d) {
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (int c = 0; c < d; c += L) {
            VectorMask<Float> mk = maskAt(c, d);
            storeOr(loadOr(x, off + c, mk).fma(a, loadOr(y, off + c, mk)), y, off + c, mk);
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
