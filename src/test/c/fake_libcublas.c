/*
 * A stand-in for libcublas on machines without a GPU, for CudaFakeLibrariesTest: the functions Cublas binds,
 * with "device" pointers that are host memory (as fake_libcuda.c hands out). The two GEMMs compute, in
 * cuBLAS's documented column-major semantics and with its argument checks (leading dimensions at least the
 * rows of each operand as stored), so the Java binding's argument order, types and row-major mapping are
 * checked against the reference backend end to end. The handle's settings are recorded for the test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define SUCCESS 0
#define INVALID_VALUE 7
#define R_32F 0

static int last_compute = -1, last_math = -1;
static void *last_stream, *last_workspace;
static size_t last_workspace_bytes;

int cublasCreate_v2(void **h) { *h = malloc(8); return SUCCESS; }
int cublasDestroy_v2(void *h) { free(h); return SUCCESS; }
int cublasSetStream_v2(void *h, void *s) { last_stream = s; return SUCCESS; }
int cublasSetWorkspace_v2(void *h, void *w, size_t n) { last_workspace = w; last_workspace_bytes = n; return SUCCESS; }
int cublasSetMathMode(void *h, int mode) { last_math = mode; return SUCCESS; }
int cublasGetVersion_v2(void *h, int *v) { *v = 130100; return SUCCESS; }
const char *cublasGetStatusString(int s) { return s == INVALID_VALUE ? "the parameters are invalid" : "unknown"; }

/* C = alpha op(A) op(B) + beta C, column-major; beta 0 ignores C. Returns INVALID_VALUE as cuBLAS does. */
static int gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                float beta, float *c, int ldc) {
    if (m < 0 || n < 0 || k < 0 || lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m || lda < 1 || ldb < 1)
        return INVALID_VALUE;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (double)(ta ? a[p + (size_t)i * lda] : a[i + (size_t)p * lda])
                     * (tb ? b[j + (size_t)p * ldb] : b[p + (size_t)j * ldb]);
            float *at = &c[i + (size_t)j * ldc];
            *at = (float)(alpha * s + (beta == 0 ? 0 : beta * *at));
        }
    return SUCCESS;
}

int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int at, int lda,
                 const void *b, int bt, int ldb, const void *beta, void *c, int ct, int ldc, int compute, int algo) {
    if (at != R_32F || bt != R_32F || ct != R_32F) return INVALID_VALUE;
    last_compute = compute;
    return gemm(ta, tb, m, n, k, *(const float *)alpha, a, lda, b, ldb, *(const float *)beta, c, ldc);
}

int cublasGemmStridedBatchedEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a,
                               int at, int lda, long long sa, const void *b, int bt, int ldb, long long sb,
                               const void *beta, void *c, int ct, int ldc, long long sc, int batch, int compute,
                               int algo) {
    if (at != R_32F || bt != R_32F || ct != R_32F || batch < 0) return INVALID_VALUE;
    last_compute = compute;
    for (int i = 0; i < batch; i++) {
        int rc = gemm(ta, tb, m, n, k, *(const float *)alpha, (const float *)a + i * sa, lda,
                      (const float *)b + i * sb, ldb, *(const float *)beta, (float *)c + i * sc, ldc);
        if (rc != SUCCESS) return rc;
    }
    return SUCCESS;
}

/* For the test. */
int fake_cublas_last_compute(void) { return last_compute; }
int fake_cublas_last_math(void) { return last_math; }
size_t fake_cublas_workspace_bytes(void) { return last_workspace_bytes; }
