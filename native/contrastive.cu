// DenseCL's contrastive pieces around cuBLAS GEMMs (RefContrastive):
//  - dense correspondence: Sim[n] = qb[n] kb[n]^T by a batched GEMM, then dense_match_argmax_f32 per row,
//    then dense_gather_f32 of the matched key vectors;
//  - InfoNCE over a block of rows, with L = the (rows, K + 1) logits buffer (row stride ldl):
//      1. GEMM: L[:, 1:] = U Q^T                (anchors against the queue, not yet divided by tau)
//      2. infonce_positive_logit_f32: L[:, 0] = u_r . pos_r
//      3. infonce_softmax_f32: rowLoss = logsumexp(z) - z_0 with z = L / tau, and (gradient wanted)
//         L becomes G = w / tau * (softmax(z) - onehot(0)) in place
//      4. GEMM: dU += G[:, 1:] Q (beta = 1), and infonce_positive_grad_f32: dU += G[:, 0] * pos
//    then, after every block, infonce_loss_sum_f32: loss[0] = w * sum of rowLoss.
// All reductions are fixed-order (warp and block trees); no atomics except the integer first-bad index.
#include "common.cuh"

// indices[r] = argmax_j sim[r, j]: ties to the smallest j, NaN never wins, a row without a winner
// (all NaN or -inf) gives 0. One warp per row, 8 rows per block of 256. sim (rows, s2), indices (rows)
extern "C" __global__ void dense_match_argmax_f32(const float* sim, int* indices, long long rows, int s2) {
    long long r = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (r >= rows) return;
    const float* row = sim + r * s2;
    float best = -INFINITY;
    int bestIdx = 0x7fffffff;  // none yet
    for (int j = lane; j < s2; j += 32) {
        float v = row[j];
        if (v > best) {  // strictly greater: a lane keeps its first maximum; NaN compares false
            best = v;
            bestIdx = j;
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, best, o);
        int oi = __shfl_xor_sync(0xffffffffu, bestIdx, o);
        if (ov > best || (ov == best && oi < bestIdx)) {
            best = ov;
            bestIdx = oi;
        }
    }
    if (lane == 0) indices[r] = bestIdx == 0x7fffffff ? 0 : bestIdx;
}

// out[b, i, :] = grid[b, indices[b, i], :]. An index j outside [0, s2) writes zeros and lowers bad[0]
// to the key (row << 32 | j as u32) of row b * s2 + i, so the smallest bad row and its index stay in one
// word until the host reads them at its next synchronisation (bad starts at ULLONG_MAX).
// grid, out (n, s2, d), indices (n, s2), bad (1)
extern "C" __global__ void dense_gather_f32(const float* grid, const int* indices, float* out, int n, int s2, int d,
                                            unsigned long long* bad) {
    FOR_EACH(o, (long long)n * s2 * d) {
        long long row = o / d;
        int k = (int)(o - row * d);
        int j = indices[row];
        if (j < 0 || j >= s2) {
            out[o] = 0.f;
            if (k == 0) atomicMin(bad, ((unsigned long long)row << 32) | (unsigned)j);
            continue;
        }
        long long b = row / s2;
        out[o] = grid[(b * s2 + j) * d + k];
    }
}

// logits[r, 0] = anchors[r] . positives[r]. One warp per row. anchors, positives (rows, d), logits (rows, ldl)
extern "C" __global__ void infonce_positive_logit_f32(const float* anchors, const float* positives, float* logits,
                                                      long long rows, int d, long long ldl) {
    long long r = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (r >= rows) return;
    float s = 0.f;
    for (int k = lane; k < d; k += 32) s += anchors[r * d + k] * positives[r * d + k];
    s = warp_sum(s);
    if (lane == 0) logits[r * ldl] = s;
}

// Per row, z = logits * invTau over cols = K + 1 columns: rowLoss[r] = logsumexp(z) - z_0 (shifted by the
// row max, so nothing overflows), and when withGrad, logits[r, j] = gradScale * (softmax(z)_j - [j == 0]).
// One block per row (blockDim.x a multiple of 32). logits (rows, ldl), rowLoss (rows)
extern "C" __global__ void infonce_softmax_f32(float* logits, long long rows, long long cols, long long ldl,
                                               float invTau, float gradScale, double* rowLoss, int withGrad) {
    __shared__ float fscratch[32];
    __shared__ double dscratch[32];
    long long r = blockIdx.x;
    if (r >= rows) return;
    float* z = logits + r * ldl;
    float mx = -INFINITY;
    for (long long j = threadIdx.x; j < cols; j += blockDim.x) mx = fmaxf(mx, z[j] * invTau);
    mx = block_max(mx, fscratch);
    double sum = 0;
    for (long long j = threadIdx.x; j < cols; j += blockDim.x) sum += expf(z[j] * invTau - mx);
    sum = block_sum(sum, dscratch);
    float lse = mx + (float)log(sum);
    if (threadIdx.x == 0) rowLoss[r] = (double)lse - (double)(z[0] * invTau);
    __syncthreads();  // z[0] is read above before anyone overwrites it
    if (!withGrad) return;
    for (long long j = threadIdx.x; j < cols; j += blockDim.x) {
        float p = expf(z[j] * invTau - lse);
        z[j] = gradScale * (j == 0 ? p - 1.f : p);
    }
}

// dAnchors[r, :] += g[r, 0] * positives[r, :]. g (rows, ldl), positives, dAnchors (rows, d)
extern "C" __global__ void infonce_positive_grad_f32(const float* g, long long ldl, const float* positives,
                                                     float* dAnchors, long long rows, int d) {
    FOR_EACH_ROW_COL(i, r, k, rows * d, d) dAnchors[i] += g[r * ldl] * positives[i];
}

// loss[0] = weight * the sum of rowLoss, in a fixed order. One block. rowLoss (rows), loss (1)
extern "C" __global__ void infonce_loss_sum_f32(const double* rowLoss, long long rows, float weight, float* loss) {
    __shared__ double scratch[32];
    double s = 0;
    for (long long r = threadIdx.x; r < rows; r += blockDim.x) s += rowLoss[r];
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) loss[0] = (float)((double)weight * s);
}
