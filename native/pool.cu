// Pooling on NHWC tensors: max pool (padding is -infinity; the first maximum in row-major window order
// wins, NaN wins and propagates, as PyTorch), global average pool and PyTorch's adaptive average pool.
// Backward passes gather per input element (each recomputes which windows it won) instead of
// scattering with atomics, so they are deterministic.
#include "common.cuh"

// The flat input index of the maximum of output cell (b, p, q, ch)'s window: the same rule as
// RefPooling.forEachWindow. Every window holds a real element (PoolGeometry: pad <= window / 2).
__device__ inline long long max_pool_argmax(const float* x, int b, int p, int q, int ch, int h, int w, int c,
                                            int r, int s, int stride, int pad) {
    long long best = -1;
    float bestValue = -INFINITY;
    for (int dr = 0; dr < r; dr++) {
        int hh = p * stride - pad + dr;
        if (hh < 0 || hh >= h) continue;
        for (int ds = 0; ds < s; ds++) {
            int ww = q * stride - pad + ds;
            if (ww < 0 || ww >= w) continue;
            long long i = (((long long)b * h + hh) * w + ww) * c + ch;
            float v = x[i];
            if (best < 0 || v > bestValue || isnan(v)) {
                best = i;
                bestValue = v;
            }
        }
    }
    return best;
}

// y[b, p, q, ch] = max of the window. x (n, h, w, c), y (n, pOut, qOut, c)
extern "C" __global__ void max_pool_forward_f32(const float* x, float* y, int n, int h, int w, int c, int r, int s,
                                                int stride, int pad, int pOut, int qOut) {
    FOR_EACH(o, (long long)n * pOut * qOut * c) {
        Nhwc at = nhwc(o, pOut, qOut, c);
        y[o] = x[max_pool_argmax(x, (int)at.n, at.h, at.w, at.c, h, w, c, r, s, stride, pad)];
    }
}

// dx[i] += the sum of dy over the windows whose maximum is x[i], windows in (p, q) order.
// x, dx (n, h, w, c); dy (n, pOut, qOut, c)
extern "C" __global__ void max_pool_backward_f32(const float* x, const float* dy, float* dx, int n, int h, int w,
                                                 int c, int r, int s, int stride, int pad, int pOut, int qOut) {
    FOR_EACH(i, (long long)n * h * w * c) {
        Nhwc at = nhwc(i, h, w, c);
        int b = (int)at.n, hh = at.h, ww = at.w, ch = at.c;
        // Windows p with p * stride - pad <= hh <= p * stride - pad + r - 1, likewise q.
        int p0 = max(0, (hh + pad - r + stride) / stride), p1 = min(pOut - 1, (hh + pad) / stride);
        int q0 = max(0, (ww + pad - s + stride) / stride), q1 = min(qOut - 1, (ww + pad) / stride);
        float acc = 0.f;
        for (int p = p0; p <= p1; p++) {
            for (int q = q0; q <= q1; q++) {
                if (max_pool_argmax(x, b, p, q, ch, h, w, c, r, s, stride, pad) == i) {
                    acc += dy[(((long long)b * pOut + p) * qOut + q) * c + ch];
                }
            }
        }
        dx[i] += acc;
    }
}

// y[b, j] = mean over hw of x[b, :, j], summed in double. x (n, hw, c), y (n, c)
extern "C" __global__ void global_avg_pool_forward_f32(const float* x, float* y, int n, long long hw, int c) {
    FOR_EACH(o, (long long)n * c) {
        long long b = o / c;
        int j = (int)(o % c);
        const float* base = x + b * hw * c + j;
        double acc = 0;
        for (long long k = 0; k < hw; k++) acc += base[k * c];
        y[o] = (float)(acc / hw);
    }
}

// dx[b, k, j] += dy[b, j] / hw. dy (n, c), dx (n, hw, c)
extern "C" __global__ void global_avg_pool_backward_f32(const float* dy, float* dx, int n, long long hw, int c) {
    FOR_EACH(i, (long long)n * hw * c) {
        long long b = i / (hw * c);
        int j = (int)(i % c);
        dx[i] += dy[b * c + j] / (float)hw;
    }
}

// Adaptive bins: output cell i covers input [floor(i * in / out), ceil((i + 1) * in / out)).
__device__ __forceinline__ int bin_start(int i, int in, int out) { return (int)(((long long)i * in) / out); }
__device__ __forceinline__ int bin_end(int i, int in, int out) {
    return (int)(((long long)(i + 1) * in + out - 1) / out);
}

// y[b, p, q, j] = mean of x over the bin. x (n, h, w, c), y (n, pOut, qOut, c)
extern "C" __global__ void adaptive_avg_pool_forward_f32(const float* x, float* y, int n, int h, int w, int c,
                                                         int pOut, int qOut) {
    FOR_EACH(o, (long long)n * pOut * qOut * c) {
        Nhwc at = nhwc(o, pOut, qOut, c);
        int b = (int)at.n, p = at.h, q = at.w, j = at.c;
        int h0 = bin_start(p, h, pOut), h1 = bin_end(p, h, pOut), w0 = bin_start(q, w, qOut), w1 = bin_end(q, w, qOut);
        double acc = 0;
        for (int hh = h0; hh < h1; hh++)
            for (int ww = w0; ww < w1; ww++) acc += x[(((long long)b * h + hh) * w + ww) * c + j];
        y[o] = (float)(acc / ((h1 - h0) * (w1 - w0)));
    }
}

// dx[b, hh, ww, j] += sum over the bins holding (hh, ww) of dy / binSize. dy (n, pOut, qOut, c), dx (n, h, w, c)
extern "C" __global__ void adaptive_avg_pool_backward_f32(const float* dy, float* dx, int n, int h, int w, int c,
                                                          int pOut, int qOut) {
    FOR_EACH(i, (long long)n * h * w * c) {
        Nhwc at = nhwc(i, h, w, c);
        int b = (int)at.n, hh = at.h, ww = at.w, j = at.c;
        // The bins holding hh are p in [floor(hh * P / H), ceil((hh + 1) * P / H) - 1], likewise for ww.
        int p0 = (int)(((long long)hh * pOut) / h), p1 = min(pOut - 1, bin_end(hh, pOut, h) - 1);
        int q0 = (int)(((long long)ww * qOut) / w), q1 = min(qOut - 1, bin_end(ww, qOut, w) - 1);
        double acc = 0;
        for (int p = p0; p <= p1; p++) {
            int h0 = bin_start(p, h, pOut), h1 = bin_end(p, h, pOut);
            if (hh < h0 || hh >= h1) continue;
            for (int q = q0; q <= q1; q++) {
                int w0 = bin_start(q, w, qOut), w1 = bin_end(q, w, qOut);
                if (ww < w0 || ww >= w1) continue;
                acc += (double)dy[(((long long)b * pOut + p) * qOut + q) * c + j] / ((h1 - h0) * (w1 - w0));
            }
        }
        dx[i] = (float)((double)dx[i] + acc);
    }
}
