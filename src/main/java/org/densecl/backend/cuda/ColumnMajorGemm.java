package org.densecl.backend.cuda;

/**
 * A row-major GEMM (Backend.gemm's contract) restated as the column-major call cuBLAS makes. A row-major
 * (r, c) matrix read column-major is its transpose, so row-major C = op(A) op(B) is column-major
 * C^T = op(B)^T op(A)^T: the operands swap, m and n swap, and each operand keeps its own transpose flag
 * (a stored-transposed operand is read back transposed). Leading dimensions are the row lengths of the
 * row-major storage.
 *
 * @param firstIsB  always true: the first cuBLAS operand is our B (kept as a field so tests can say it)
 * @param opFirst   cublasOperation_t of the first operand (our B)
 * @param opSecond  cublasOperation_t of the second operand (our A)
 * @param m         cuBLAS m = our n
 * @param n         cuBLAS n = our m
 * @param k         k
 * @param ldFirst   leading dimension of B's storage: n, or k when B is stored (n, k)
 * @param ldSecond  leading dimension of A's storage: k, or m when A is stored (k, m)
 * @param ldc       n, the row length of C
 */
record ColumnMajorGemm(boolean firstIsB, int opFirst, int opSecond, int m, int n, int k,
                       int ldFirst, int ldSecond, int ldc) {
    static final int CUBLAS_OP_N = 0; // cublasOperation_t CUBLAS_OP_N
    static final int CUBLAS_OP_T = 1; // cublasOperation_t CUBLAS_OP_T

    /** The cuBLAS arguments for row-major C (m, n) = op(A) (m, k) * op(B) (k, n), all three dense. */
    static ColumnMajorGemm of(boolean transA, boolean transB, int m, int n, int k) {
        return of(transA, transB, m, n, k, transA ? m : k, transB ? k : n, n);
    }

    /**
     * As {@link #of(boolean, boolean, int, int, int)} with the row strides of the storage given: lda for A
     * as stored ((m, k), or (k, m) when transposed), ldb for B, ldc for C; each at least its row length, so
     * an operand may be a block of columns of a wider matrix (InfoNCE's logits).
     */
    static ColumnMajorGemm of(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("gemm: m, n, k must be positive, got " + m + ", " + n + ", " + k);
        }
        if (lda < (transA ? m : k) || ldb < (transB ? k : n) || ldc < n) {
            throw new IllegalArgumentException("gemm: leading dimensions (" + lda + ", " + ldb + ", " + ldc
                    + ") shorter than the rows of A, B, C");
        }
        return new ColumnMajorGemm(true, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                n, m, k, ldb, lda, ldc);
    }
}
