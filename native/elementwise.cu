// Elementwise and per-channel ops: scale, axpy, add, add+ReLU, ReLU and its backward, bias add,
// channel-block copies and channel dropout. One thread per element, grid-stride; no atomics.
// Zero, fill and copy are driver memsets and memcpys, not kernels.
#include "common.cuh"

// x = alpha * x. x (n)
extern "C" __global__ void scale_f32(float* x, long long n, float alpha) {
    FOR_EACH(i, n) x[i] *= alpha;
}

// y += alpha * x, one rounding (fma). x, y (n)
extern "C" __global__ void axpy_f32(const float* x, float* y, long long n, float alpha) {
    FOR_EACH(i, n) y[i] = fmaf(alpha, x[i], y[i]);
}

// y = a + b; y may alias a or b. a, b, y (n)
extern "C" __global__ void add_f32(const float* a, const float* b, float* y, long long n) {
    FOR_EACH(i, n) y[i] = a[i] + b[i];
}

// y = max(a + b, 0), the sum rounded first; NaN passes (v < 0 is false for it). a, b, y (n)
extern "C" __global__ void add_relu_f32(const float* a, const float* b, float* y, long long n) {
    FOR_EACH(i, n) {
        float v = a[i] + b[i];
        y[i] = v < 0.f ? 0.f : v;
    }
}

// y = max(x, 0); y may alias x; NaN passes, as in PyTorch. x, y (n)
extern "C" __global__ void relu_forward_f32(const float* x, float* y, long long n) {
    FOR_EACH(i, n) {
        float v = x[i];
        y[i] = v < 0.f ? 0.f : v;
    }
}

// dx += dy where y > 0 (accumulate), or dx = (y > 0 ? dy : 0). y, dy, dx (n)
extern "C" __global__ void relu_backward_f32(const float* y, const float* dy, float* dx, long long n,
                                             int accumulate) {
    FOR_EACH(i, n) {
        float g = y[i] > 0.f ? dy[i] : 0.f;
        dx[i] = accumulate ? dx[i] + g : g;
    }
}

// y[m, j] += b[j]. y (rows, c), b (c)
extern "C" __global__ void bias_add_f32(float* y, const float* b, long long rows, int c) {
    FOR_EACH_ROW_COL(i, m, j, rows * c, c) y[i] += b[j];
}

// dst[m, dstCh + j] = (or += when accumulate) src[m, srcCh + j], j < count. src (rows, cs), dst (rows, cd)
extern "C" __global__ void copy_channels_f32(const float* src, int cs, int srcCh, float* dst, int cd, int dstCh,
                                             long long rows, int count, int accumulate) {
    FOR_EACH_ROW_COL(i, m, j, rows * count, count) {
        float v = src[m * cs + srcCh + j];
        float* d = dst + m * cd + dstCh + j;
        *d = accumulate ? *d + v : v;
    }
}

// DropoutMask.uniform of the Java code, bit for bit: SplitMix64's finaliser of (seed, sample, channel),
// the top 24 bits as a float in [0, 1). Java's long arithmetic wraps like unsigned 64-bit arithmetic.
__host__ __device__ inline float dropout_uniform(unsigned long long seed, int sample, int channel) {
    unsigned long long mix = (((unsigned long long)(long long)sample) << 32) ^ (unsigned long long)(unsigned)channel
                             ^ 0x5851F42D4C957F2DULL;
    unsigned long long z = seed + 0x9E3779B97F4A7C15ULL * mix;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    return (float)(z >> 40) * 0x1.0p-24f;
}

// mask[b, j] = DropoutMask.scale(seed, b, j, p): 0 if dropped, 1 / (1 - p) if kept (1 when p <= 0). mask (n, c)
extern "C" __global__ void dropout_mask_f32(float* mask, int n, int c, unsigned long long seed, float p) {
    FOR_EACH(i, (long long)n * c) {
        int b = (int)(i / c), j = (int)(i % c);
        mask[i] = p <= 0.f ? 1.f : (dropout_uniform(seed, b, j) < p ? 0.f : 1.f / (1.f - p));
    }
}

// out = (or += when accumulate) in * mask[b, j]. in, out (n, hw, c) (NHWC), mask (n, c)
extern "C" __global__ void dropout_apply_f32(const float* in, const float* mask, float* out, int n, long long hw,
                                             int c, int accumulate) {
    FOR_EACH(i, (long long)n * hw * c) {
        long long b = i / (hw * c);
        int j = (int)(i % c);
        float v = in[i] * mask[b * c + j];
        out[i] = accumulate ? out[i] + v : v;
    }
}
