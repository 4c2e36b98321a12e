package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import org.densecl.backend.ContrastiveChecks;
import org.densecl.tensor.Tensor;

/**
 * DenseCL's contrastive ops with the GEMM-shaped work on cuBLAS (contracts: Backend#denseMatch,
 * #denseGather, #infoNceLoss) and the row work on our kernels.
 * <ul>
 *   <li>denseMatch: one strided-batched GEMM gives the N similarity matrices Sim[n] = qb[n] kb[n]^T
 *       (S2 x S2 each) in a grow-once scratch; the argmax kernel writes the indices.</li>
 *   <li>denseGather: the gather kernel, its out-of-range record in a {@link DeferredChecks} slot (the
 *       contract throws on a bad index; here at the host's next synchronisation, not with one of its own).</li>
 *   <li>infoNceLoss: rows in blocks of {@link #BLOCK_ROWS}. Per block, logits (rows, 1 + K) with the
 *       positive logit in column 0 (a row-dot kernel) and u queue^T in columns 1..K (a GEMM writing with
 *       leading dimension 1 + K); the softmax kernel writes each row's loss and turns the logits in place
 *       into w/tau (p - onehot(0)); a GEMM accumulates columns 1..K times the queue into dAnchors and a row
 *       kernel adds column 0 times the positives. One kernel sums the row losses into loss[0].</li>
 * </ul>
 * Scratch buffers are {@link Workspace}s: the first step sizes them, later steps allocate nothing.
 */
final class CudaContrastive {
    /**
     * Rows per block: 4096 rows x 1 + K = 65537 logits is 1 GiB at most; the benchmarks' 4096-key queue
     * needs 64 MiB. Large blocks keep the two GEMMs of a block big enough for the tensor cores.
     */
    static final int BLOCK_ROWS = 4096;

    private final Cublas cublas;
    private final CudaKernels kernels;
    private final long stream;
    private final Workspace similarity; // (N, S2, S2) floats
    private final Workspace logits;     // (block, 1 + K) floats
    private final Workspace rowLoss;    // (R) doubles
    private final DeferredChecks checks;

    CudaContrastive(Cublas cublas, CudaKernels kernels, long stream, Workspace similarity, Workspace logits,
                    Workspace rowLoss, DeferredChecks checks) {
        this.checks = checks;
        this.cublas = cublas;
        this.kernels = kernels;
        this.stream = stream;
        this.similarity = similarity;
        this.logits = logits;
        this.rowLoss = rowLoss;
    }

    void denseMatch(Tensor qb, Tensor kb, Tensor indices) {
        String op = "denseMatch";
        ContrastiveChecks.denseMatch(qb, kb, indices);
        int n = qb.shape().dim(0), s2 = qb.shape().dim(1), c = qb.shape().dim(2);
        MemorySegment sim = similarity.reserve((long) n * s2 * s2 * Float.BYTES);
        cublas.gemmStridedBatched(false, true, s2, s2, c, 1f, CudaArgs.f32(op, "qb", qb), (long) s2 * c,
                CudaArgs.f32(op, "kb", kb), (long) s2 * c, 0f, sim, (long) s2 * s2, n);
        kernels.denseMatchArgmax(stream, sim.address(), CudaArgs.i32Address(op, "indices", indices), (long) n * s2, s2);
    }

    void denseGather(Tensor grid, Tensor indices, Tensor out) {
        String op = "denseGather";
        ContrastiveChecks.denseGather(grid, indices, out);
        int n = grid.shape().dim(0), s2 = grid.shape().dim(1), d = grid.shape().dim(2);
        String gridShape = grid.shape().toString();
        long bad = checks.claim(key -> CudaKernels.badIndex(key, s2, gridShape));
        kernels.denseGather(stream, CudaArgs.f32Address(op, "grid", grid), CudaArgs.i32Address(op, "indices", indices),
                CudaArgs.f32Address(op, "out", out), n, s2, d, bad);
    }

    void infoNce(Tensor anchors, Tensor positives, Tensor queue, float tau, float w, Tensor loss, Tensor dAnchors) {
        String op = "infoNceLoss";
        ContrastiveChecks.infoNce(anchors, positives, queue, tau, loss, dAnchors);
        int r = anchors.shape().dim(0), d = anchors.shape().dim(1), k = queue.shape().dim(0);
        int block = Math.max(1, Math.min(r, BLOCK_ROWS)), ldl = k + 1;
        long z = logits.reserve((long) block * ldl * Float.BYTES).address();
        long losses = rowLoss.reserve(CudaKernels.infoNceWorkspaceBytes(r)).address();
        long u = CudaArgs.f32Address(op, "anchors", anchors), pos = CudaArgs.f32Address(op, "positives", positives);
        MemorySegment q = CudaArgs.f32(op, "queue", queue), negatives = MemorySegment.ofAddress(z + Float.BYTES);
        long du = dAnchors == null ? 0 : CudaArgs.f32Address(op, "dAnchors", dAnchors);
        for (int r0 = 0; r0 < r; r0 += block) {
            int rows = Math.min(block, r - r0);
            long at = (long) Float.BYTES * r0 * d;
            kernels.infoNcePositiveLogit(stream, u + at, pos + at, z, rows, d, ldl);
            // logits[:, 1..K] = u_block queue^T (rows x K, row stride 1 + K)
            cublas.gemm(false, true, rows, k, d, 1f, MemorySegment.ofAddress(u + at), d, q, d, 0f, negatives, ldl);
            kernels.infoNceSoftmax(stream, z, rows, ldl, ldl, 1f / tau, w / tau, losses + 8L * r0, dAnchors != null);
            if (dAnchors != null) {
                // dAnchors_block += g[:, 1..K] queue (rows x D); then += g[:, 0] * positives
                cublas.gemm(false, false, rows, d, k, 1f, negatives, ldl, q, d, 1f, MemorySegment.ofAddress(du + at),
                        d);
                kernels.infoNcePositiveGrad(stream, z, ldl, pos + at, du + at, rows, d);
            }
        }
        kernels.infoNceLossSum(stream, losses, r, w, CudaArgs.f32Address(op, "loss", loss));
    }
}
