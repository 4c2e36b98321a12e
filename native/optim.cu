// Parameter updates (RefOptim), in double like the reference and rounded once per stored value, so a
// step matches the oracle to the last bit in almost every element. One thread per element.
#include "common.cuh"

// g = grad + weightDecay * param; buf = momentum * buf + g (stored, then read back rounded, as a float32
// PyTorch run does); param -= lr * buf. buf may be NULL when momentum is 0: param -= lr * g.
// param, grad, buf (n)
extern "C" __global__ void sgd_step_f32(float* param, const float* grad, float* buf, long long n, float lr,
                                        float momentum, float weightDecay) {
    FOR_EACH(i, n) {
        double w = param[i];
        double g = (double)grad[i] + (double)weightDecay * w;
        double step = g;
        if (buf != nullptr) {
            float b = (float)((double)momentum * buf[i] + g);
            buf[i] = b;
            step = b;
        }
        param[i] = (float)(w - (double)lr * step);
    }
}

// target = m * target + (1 - m) * source. target, source (n)
extern "C" __global__ void ema_update_f32(float* target, const float* source, long long n, float m) {
    double md = m;
    FOR_EACH(i, n) target[i] = (float)(md * target[i] + (1 - md) * source[i]);
}
