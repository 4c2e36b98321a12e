// The divergence check's reduction: how many elements are NaN or infinite. Per-block counts in a fixed
// tree, then an integer atomicAdd, whose result does not depend on the order.
#include "common.cuh"

// count[0] += the number of non-finite x[i]. The host zeroes count first. x (n), count (1)
extern "C" __global__ void count_nonfinite_f32(const float* x, long long n, unsigned long long* count) {
    __shared__ unsigned long long scratch[32];
    unsigned long long k = 0;
    FOR_EACH(i, n) k += isfinite(x[i]) ? 0 : 1;
    k = block_sum(k, scratch);
    if (threadIdx.x == 0 && k) atomicAdd(count, k);
}
