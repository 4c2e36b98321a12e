// Per-pixel softmax cross-entropy with an ignore index (RefLosses) and F.normalize's L2 normalisation.
// Deterministic: the loss is summed per block in a fixed tree, then the block sums in order; the only
// atomics are on integers (label counts, the first bad pixel), whose result does not depend on order.
#include "common.cuh"

#define CE_BLOCK 256

// Label check and count, before the loss or its gradient: count[0] += non-ignored labels (the host zeroes
// it first); when bad is not NULL, bad[0] = min of its value and the key (pixel << 32 | label as u32) of
// every label outside [0, c) that is not the ignore index, so the smallest bad pixel and its label survive
// in one word until the host reads them at its next synchronisation (rows < 2^32, checked by the host).
// labels (rows), count (1), bad (1) or NULL
extern "C" __global__ void ce_labels_f32(const int* labels, long long rows, int c, int ignoreIndex,
                                         unsigned long long* count, unsigned long long* bad) {
    __shared__ unsigned long long scratch[32];
    unsigned long long counted = 0;
    FOR_EACH(m, rows) {
        int label = labels[m];
        if (label == ignoreIndex) continue;
        counted++;
        if ((label < 0 || label >= c) && bad != nullptr)
            atomicMin(bad, ((unsigned long long)m << 32) | (unsigned)label);
    }
    counted = block_sum(counted, scratch);
    if (threadIdx.x == 0 && counted) atomicAdd(count, counted);
}

// probs = softmax(logits) per row; blockLoss[blk] = sum over the block's rows of logsumexp - logit[label]
// (ignored and out-of-range labels add nothing; the host throws for the latter). One thread per row,
// CE_BLOCK threads per block, grid = ceil(rows / CE_BLOCK). logits, probs (rows, c), labels (rows),
// blockLoss (gridDim.x)
extern "C" __global__ void softmax_ce_forward_f32(const float* logits, const int* labels, long long rows, int c,
                                                  int ignoreIndex, float* probs, double* blockLoss) {
    __shared__ double scratch[32];
    long long m = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    double loss = 0;
    if (m < rows) {
        const float* z = logits + m * c;
        float mx = -INFINITY;
        for (int j = 0; j < c; j++) mx = fmaxf(mx, z[j]);
        float sum = 0.f;
        for (int j = 0; j < c; j++) sum += expf(z[j] - mx);
        float lse = mx + logf(sum);
        for (int j = 0; j < c; j++) probs[m * c + j] = expf(z[j] - lse);
        int label = labels[m];
        if (label != ignoreIndex && label >= 0 && label < c) loss = (double)lse - z[label];
    }
    loss = block_sum(loss, scratch);
    if (threadIdx.x == 0) blockLoss[blockIdx.x] = loss;
}

// loss[0] = (sum of blockLoss) / denominator, the denominator rows or (averageNonIgnored) count[0];
// 0 when the denominator is 0. One block of CE_BLOCK threads. blockLoss (blocks), count (1), loss (1)
extern "C" __global__ void softmax_ce_finalize_f32(const double* blockLoss, int blocks,
                                                   const unsigned long long* count, long long rows,
                                                   int averageNonIgnored, float* loss) {
    __shared__ double scratch[32];
    double s = 0;
    for (int k = threadIdx.x; k < blocks; k += blockDim.x) s += blockLoss[k];
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) {
        double den = averageNonIgnored ? (double)count[0] : (double)rows;
        loss[0] = den == 0 ? 0.f : (float)(s / den);
    }
}

// dlogits += scale * (probs - onehot(label)) / denominator; ignored (and out-of-range) rows get nothing.
// probs, dlogits (rows, c), labels (rows), count (1) from ce_labels_f32
extern "C" __global__ void softmax_ce_backward_f32(const float* probs, const int* labels, long long rows, int c,
                                                   int ignoreIndex, const unsigned long long* count,
                                                   int averageNonIgnored, float scale, float* dlogits) {
    double den = averageNonIgnored ? (double)count[0] : (double)rows;
    if (den == 0) return;
    float k = (float)(scale / den);
    FOR_EACH_ROW_COL(i, m, j, rows * c, c) {
        int label = labels[m];
        if (label == ignoreIndex || label < 0 || label >= c) continue;
        dlogits[i] += k * (probs[i] - (j == label ? 1.f : 0.f));
    }
}

// y = x / max(||x||, eps) per row, norms = the unclamped ||x||. One warp per row, 8 rows per block of 256.
// x, y (rows, c), norms (rows)
extern "C" __global__ void l2_normalize_forward_f32(const float* x, float* y, float* norms, long long rows, int c,
                                                    float eps) {
    long long m = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (m >= rows) return;  // whole warps leave together
    const float* xr = x + m * c;
    float sq = 0.f;
    for (int j = lane; j < c; j += 32) sq += xr[j] * xr[j];
    float norm = sqrtf(warp_sum(sq));
    float divisor = fmaxf(norm, eps);
    for (int j = lane; j < c; j += 32) y[m * c + j] = xr[j] / divisor;
    if (lane == 0) norms[m] = norm;
}

// dx += (dy - y * (y . dy)) / ||x|| per row, or dy / eps where ||x|| < eps. One warp per row.
// y, dy, dx (rows, c), norms (rows)
extern "C" __global__ void l2_normalize_backward_f32(const float* y, const float* norms, const float* dy, float* dx,
                                                     long long rows, int c, float eps) {
    long long m = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (m >= rows) return;
    const float *yr = y + m * c, *dyr = dy + m * c;
    float* dxr = dx + m * c;
    float norm = norms[m];
    if (norm < eps) {
        for (int j = lane; j < c; j += 32) dxr[j] += dyr[j] / eps;
        return;
    }
    float dot = 0.f;
    for (int j = lane; j < c; j += 32) dot += yr[j] * dyr[j];
    dot = warp_sum(dot);
    for (int j = lane; j < c; j += 32) dxr[j] += (dyr[j] - yr[j] * dot) / norm;
}
