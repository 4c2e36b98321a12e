// Shared helpers of the DenseCL-J kernels. Every kernel is `extern "C" __global__` (unmangled, so Java
// resolves it by name), works on f32 and takes 64-bit element counts where a size can pass 2^31.
// Reductions go through the fixed-order helpers below, so a kernel gives the same bits on every run.
#pragma once
#include <math.h>
#include <stdint.h>

// Grid-stride loop over [0, n): the Java side caps the grid, so huge tensors still work.
#define FOR_EACH(i, n)                                                                        \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)blockDim.x * gridDim.x)

// FOR_EACH over an (M, C) tensor that also keeps the row m = i / c and column j = i % c, advanced by
// the loop's stride instead of a 64-bit division per element (which would cost more than the memory
// traffic of these kernels). m and j are long long.
#define FOR_EACH_ROW_COL(i, m, j, n, c)                                                                 \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x,                                \
                   i##_step = (long long)blockDim.x * gridDim.x, m = i / (c), j = i % (c),                \
                   m##_step = i##_step / (c), j##_step = i##_step % (c);                                  \
         i < (long long)(n);                                                                            \
         i += i##_step, m += m##_step + (j + j##_step >= (c)), j = j + j##_step >= (c) ? j + j##_step - (c) : j + j##_step)

// A flat NHWC index split into its coordinates, for dims (h, w, c).
struct Nhwc {
    long long n;
    int h, w, c;
};

__device__ __forceinline__ Nhwc nhwc(long long i, int h, int w, int c) {
    Nhwc r;
    r.c = (int)(i % c);
    long long t = i / c;
    r.w = (int)(t % w);
    t /= w;
    r.h = (int)(t % h);
    r.n = t / h;
    return r;
}

// Sum over a warp by butterfly shuffles: the same additions in the same order on every run.
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
// scratch: (32) elements of shared memory.
template <typename T>
__device__ T block_sum(T v, T* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : (T)0;
    return warp_sum(v);
}

// Max over the block, as block_sum; NaN is ignored by fmaxf unless every value is NaN.
__device__ inline float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// Column reductions over an (M, C) tensor use a (ceil(C / 32), G) grid of (32, 8) blocks: block
// (cx, g) sums rows [g * chunkRows, (g + 1) * chunkRows) of 32 adjacent columns into one partial per
// column; a finalize kernel then adds the G partials in order. Two passes instead of atomics, so the
// result is deterministic. COL_ROWS is the block's row lanes.
#define COL_TILE 32
#define COL_ROWS 8

// Adds the (COL_ROWS, COL_TILE) per-thread values of a block down the row lanes, in order; returns the
// column total in row lane 0. tile: shared (COL_ROWS, COL_TILE).
__device__ inline double column_total(double v, double (*tile)[COL_TILE]) {
    tile[threadIdx.y][threadIdx.x] = v;
    __syncthreads();
    double t = 0;
    if (threadIdx.y == 0) {
        for (int r = 0; r < COL_ROWS; r++) t += tile[r][threadIdx.x];
    }
    return t;
}

// Stores a block's two column totals as partials of row chunk blockIdx.y: part[0, g, j] = total of a,
// part[1, g, j] = total of b. part (2, gridDim.y, c)
__device__ inline void store_column_pair(double a, double b, double (*tile)[COL_TILE], double* part, int c, int j) {
    double ta = column_total(a, tile);
    __syncthreads();  // tile is reused
    double tb = column_total(b, tile);
    if (threadIdx.y == 0 && j < c) {
        long long groups = gridDim.y;
        part[(long long)blockIdx.y * c + j] = ta;
        part[(groups + blockIdx.y) * c + j] = tb;
    }
}

// The in-order sums over the row chunks of the two partials of column j: a = sum of part[0, :, j],
// b = sum of part[1, :, j]. part (2, groups, c)
__device__ inline void sum_column_pair(const double* part, int groups, int c, long long j, double& a, double& b) {
    a = 0;
    b = 0;
    for (int g = 0; g < groups; g++) {
        a += part[(long long)g * c + j];
        b += part[((long long)groups + g) * c + j];
    }
}
