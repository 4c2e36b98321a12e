// Bilinear resize as PyTorch's F.interpolate(mode='bilinear') (RefResize): source coordinates in double,
// per output row and column:
//   alignCorners: src = dst * (in - 1) / (out - 1)   (0 when out == 1)
//   otherwise:    src = max((dst + 0.5) * in / out - 0.5, 0)
//   i0 = min(floor(src), in - 1), i1 = i0 + (i0 < in - 1), l1 = clamp(src - i0, 0, 1), l0 = 1 - l1
// and equal sizes are a copy. The backward pass scatters with float atomicAdd (the one kernel here whose
// summation order varies between runs; the shares per element are at most a few, within the ref tolerance).
#include "common.cuh"

struct Taps {
    int i0, i1;
    float l0, l1;
};

__device__ inline Taps resize_taps(int dst, int in, int out, int alignCorners) {
    Taps t;
    if (in == out) {
        t.i0 = t.i1 = dst;
        t.l0 = 1.f;
        t.l1 = 0.f;
        return t;
    }
    double src = alignCorners ? (out > 1 ? dst * (double)(in - 1) / (out - 1) : 0.0)
                              : fmax((dst + 0.5) * in / out - 0.5, 0.0);
    t.i0 = min((int)src, in - 1);
    t.i1 = t.i0 + (t.i0 < in - 1 ? 1 : 0);
    double l1 = fmin(fmax(src - t.i0, 0.0), 1.0);
    t.l1 = (float)l1;
    t.l0 = (float)(1.0 - l1);
    return t;
}

// x (n, h, w, c), y (n, oh, ow, c)
extern "C" __global__ void resize_bilinear_forward_f32(const float* x, float* y, int n, int h, int w, int c, int oh,
                                                       int ow, int alignCorners) {
    FOR_EACH(o, (long long)n * oh * ow * c) {
        Nhwc at = nhwc(o, oh, ow, c);
        long long b = at.n;
        int k = at.c;
        Taps th = resize_taps(at.h, h, oh, alignCorners), tw = resize_taps(at.w, w, ow, alignCorners);
        const float* base = x + b * h * w * c + k;
        float top = tw.l0 * base[((long long)th.i0 * w + tw.i0) * c] + tw.l1 * base[((long long)th.i0 * w + tw.i1) * c];
        float bot = tw.l0 * base[((long long)th.i1 * w + tw.i0) * c] + tw.l1 * base[((long long)th.i1 * w + tw.i1) * c];
        y[o] = th.l0 * top + th.l1 * bot;
    }
}

// dx += the adjoint: each dy element adds its four weighted shares (atomicAdd). dy (n, oh, ow, c), dx (n, h, w, c)
extern "C" __global__ void resize_bilinear_backward_f32(const float* dy, float* dx, int n, int h, int w, int c,
                                                        int oh, int ow, int alignCorners) {
    FOR_EACH(o, (long long)n * oh * ow * c) {
        Nhwc at = nhwc(o, oh, ow, c);
        long long b = at.n;
        int k = at.c;
        Taps th = resize_taps(at.h, h, oh, alignCorners), tw = resize_taps(at.w, w, ow, alignCorners);
        float g = dy[o];
        float* base = dx + b * h * w * c + k;
        atomicAdd(base + ((long long)th.i0 * w + tw.i0) * c, th.l0 * tw.l0 * g);
        atomicAdd(base + ((long long)th.i0 * w + tw.i1) * c, th.l0 * tw.l1 * g);
        atomicAdd(base + ((long long)th.i1 * w + tw.i0) * c, th.l1 * tw.l0 * g);
        atomicAdd(base + ((long long)th.i1 * w + tw.i1) * c, th.l1 * tw.l1 * g);
    }
}
