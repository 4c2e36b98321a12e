// Column sums of an (M, C) tensor: bias backward (db += column sums of dy). Two passes, no atomics:
// partials per row chunk in double, then an in-order sum of the partials (see common.cuh).
#include "common.cuh"

// part[g, j] = sum of x[m, j] over row chunk g. Grid (ceil(c / 32), G), block (32, 8). x (rows, c), part (G, c)
extern "C" __global__ void col_sum_partial_f32(const float* x, long long rows, int c, long long chunkRows,
                                               double* part) {
    __shared__ double tile[COL_ROWS][COL_TILE];
    int j = blockIdx.x * COL_TILE + threadIdx.x;
    long long m0 = (long long)blockIdx.y * chunkRows, m1 = min(rows, m0 + chunkRows);
    double s = 0;
    if (j < c) {
        for (long long m = m0 + threadIdx.y; m < m1; m += COL_ROWS) s += x[m * c + j];
    }
    double t = column_total(s, tile);
    if (threadIdx.y == 0 && j < c) part[(long long)blockIdx.y * c + j] = t;
}

// out[j] += sum over g of part[g, j], in double, rounded once. part (groups, c), out (c)
extern "C" __global__ void col_sum_finalize_f32(const double* part, int groups, int c, float* out) {
    FOR_EACH(j, c) {
        double s = 0;
        for (int g = 0; g < groups; g++) s += part[(long long)g * c + j];
        out[j] = (float)((double)out[j] + s);
    }
}
