// Batch norm over x seen as (M, C), PyTorch's semantics (Backend.batchNormTrainForward): batch mean and
// biased variance normalise, the running variance tracks the unbiased one, an optional fused ReLU, and
// the residual join y = max(BN(x) + residual, 0). These kernels keep BN independent of cuDNN.
//
// Statistics are column reductions (common.cuh) in double, without atomics, so they are deterministic.
// The variance uses sums shifted by the channel's first value K = x[0, j]: sum (x - K) and sum (x - K)^2
// lose nothing to cancellation unless the mean is far from K in units of the standard deviation.
#include "common.cuh"

// part[0, g, j] = sum (x - K_j), part[1, g, j] = sum (x - K_j)^2 over row chunk g. Grid (ceil(c / 32), G),
// block (32, 8). x (rows, c), part (2, G, c)
extern "C" __global__ void bn_stats_partial_f32(const float* x, long long rows, int c, long long chunkRows,
                                                double* part) {
    __shared__ double tile[COL_ROWS][COL_TILE];
    int j = blockIdx.x * COL_TILE + threadIdx.x;
    long long m0 = (long long)blockIdx.y * chunkRows, m1 = min(rows, m0 + chunkRows);
    double s1 = 0, s2 = 0;
    if (j < c) {
        double k = x[j];
        for (long long m = m0 + threadIdx.y; m < m1; m += COL_ROWS) {
            double d = (double)x[m * c + j] - k;
            s1 += d;
            s2 += d * d;
        }
    }
    store_column_pair(s1, s2, tile, part, c, j);
}

// Per channel: mean, biased variance, invStd = 1 / sqrt(var + eps) saved; running = (1 - momentum) *
// running + momentum * batch with the unbiased variance (rows / (rows - 1)). part (2, groups, c); x (rows, c)
// (for the shift K); runningMean, runningVar, saveMean, saveInvStd (c). rows > 1 (checked by the host).
extern "C" __global__ void bn_stats_finalize_f32(const double* part, int groups, int c, long long rows,
                                                 const float* x, float momentum, float eps, float* runningMean,
                                                 float* runningVar, float* saveMean, float* saveInvStd) {
    FOR_EACH(j, c) {
        double s1, s2;
        sum_column_pair(part, groups, c, j, s1, s2);
        double mean = (double)x[j] + s1 / rows;
        double sq = fmax(s2 - s1 * s1 / rows, 0.0);  // sum (x - mean)^2
        double invStd = 1.0 / sqrt(sq / rows + (double)eps);
        double mom = momentum;
        saveMean[j] = (float)mean;
        saveInvStd[j] = (float)invStd;
        runningMean[j] = (float)((1 - mom) * runningMean[j] + mom * mean);
        runningVar[j] = (float)((1 - mom) * runningVar[j] + mom * (sq / (rows - 1)));
    }
}

// y = gamma * (x - mean) * invStd + beta, then: residual == NULL: max(., 0) when relu; residual given:
// y = max(float(BN) + residual, 0) (the join; relu is ignored). y may alias neither x nor residual.
// x, y, residual (rows, c); mean, invStd, gamma, beta (c)
extern "C" __global__ void bn_apply_f32(const float* x, long long rows, int c, const float* mean,
                                        const float* invStd, const float* gamma, const float* beta,
                                        const float* residual, float* y, int relu) {
    FOR_EACH_ROW_COL(i, m, j, rows * c, c) {
        float v = gamma[j] * (x[i] - mean[j]) * invStd[j] + beta[j];
        if (residual != nullptr) {
            v = v + residual[i];
            y[i] = v < 0.f ? 0.f : v;
        } else {
            y[i] = relu && v < 0.f ? 0.f : v;
        }
    }
}

// Evaluation mode: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta, then ReLU when relu.
// x, y (rows, c); gamma, beta, runningMean, runningVar (c)
extern "C" __global__ void bn_inference_f32(const float* x, long long rows, int c, const float* gamma,
                                            const float* beta, const float* runningMean, const float* runningVar,
                                            float eps, float* y, int relu) {
    FOR_EACH_ROW_COL(i, m, j, rows * c, c) {
        float invStd = 1.f / sqrtf(runningVar[j] + eps);
        float v = gamma[j] * (x[i] - runningMean[j]) * invStd + beta[j];
        y[i] = relu && v < 0.f ? 0.f : v;
    }
}

// The upstream gradient: dy, zeroed where a fused ReLU clipped (y <= 0).
__device__ __forceinline__ float bn_upstream(const float* dy, const float* y, int relu, long long i) {
    return relu && !(y[i] > 0.f) ? 0.f : dy[i];
}

// part[0, g, j] = sum g, part[1, g, j] = sum g * xhat over row chunk g (g = upstream gradient,
// xhat = (x - mean) * invStd). Grid (ceil(c / 32), G), block (32, 8).
// x, dy, y (rows, c) (y only read when relu); mean, invStd (c); part (2, G, c)
extern "C" __global__ void bn_backward_partial_f32(const float* x, const float* dy, const float* y, long long rows,
                                                   int c, long long chunkRows, const float* mean,
                                                   const float* invStd, int relu, double* part) {
    __shared__ double tile[COL_ROWS][COL_TILE];
    int j = blockIdx.x * COL_TILE + threadIdx.x;
    long long m0 = (long long)blockIdx.y * chunkRows, m1 = min(rows, m0 + chunkRows);
    double sg = 0, sgx = 0;
    if (j < c) {
        float mu = mean[j], is = invStd[j];
        for (long long m = m0 + threadIdx.y; m < m1; m += COL_ROWS) {
            long long i = m * c + j;
            double g = bn_upstream(dy, y, relu, i);
            sg += g;
            sgx += g * (double)((x[i] - mu) * is);
        }
    }
    store_column_pair(sg, sgx, tile, part, c, j);
}

// dbeta += sum g, dgamma += sum g * xhat (double adds, rounded once); means[0, j] = mean(g) and
// means[1, j] = mean(g * xhat) for the dx pass. part (2, groups, c); dgamma, dbeta (c); means (2, c)
extern "C" __global__ void bn_backward_finalize_f32(const double* part, int groups, int c, long long rows,
                                                    float* dgamma, float* dbeta, float* means) {
    FOR_EACH(j, c) {
        double sg, sgx;
        sum_column_pair(part, groups, c, j, sg, sgx);
        dbeta[j] = (float)((double)dbeta[j] + sg);
        dgamma[j] = (float)((double)dgamma[j] + sgx);
        means[j] = (float)(sg / rows);
        means[c + j] = (float)(sgx / rows);
    }
}

// dx (+)= gamma * invStd * (g - mean(g) - xhat * mean(g * xhat)), means over the rows of the channel.
// x, dy, y, dx (rows, c); gamma, mean, invStd (c); means (2, c) from bn_backward_finalize_f32
extern "C" __global__ void bn_backward_dx_f32(const float* x, const float* dy, const float* y, long long rows,
                                              int c, const float* gamma, const float* mean, const float* invStd,
                                              const float* means, int relu, float* dx, int accumulate) {
    FOR_EACH_ROW_COL(i, m, j, rows * c, c) {
        float meanG = means[j], meanGX = means[c + j];
        float xhat = (x[i] - mean[j]) * invStd[j];
        float v = gamma[j] * invStd[j] * (bn_upstream(dy, y, relu, i) - meanG - xhat * meanGX);
        dx[i] = accumulate ? dx[i] + v : v;
    }
}
