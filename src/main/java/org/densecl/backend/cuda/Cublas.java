package org.densecl.backend.cuda;

import static org.densecl.backend.cuda.Downcalls.INT;
import static org.densecl.backend.cuda.Downcalls.PTR;
import static org.densecl.backend.cuda.Downcalls.SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * cuBLAS through FFM: one handle bound to the backend's compute stream and a workspace that is set once,
 * and the two GEMMs the backend needs (single and strided-batched), row-major as {@code Backend.gemm}
 * says and mapped onto column-major cuBLAS by {@link ColumnMajorGemm}. Operands are F32 in device memory;
 * the {@link CudaPrecision} picks the compute type (TF32 by default).
 *
 * <p>Library: {@code libcublas.so.13}, then {@code .so.12}, or the file named by DENSECL_LIBCUBLAS
 * (cuBLAS opens its own libcublasLt). Not thread-safe: one caller thread, as a training step has.
 */
public final class Cublas implements AutoCloseable {
    static final String OVERRIDE_ENV = "DENSECL_LIBCUBLAS";
    static final List<String> SONAMES = List.of("libcublas.so.13", "libcublas.so.12");

    static final int CUDA_R_32F = 0;          // cudaDataType_t CUDA_R_32F
    static final int CUBLAS_GEMM_DEFAULT = -1; // cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT (heuristic choice)
    static final int CUBLAS_DEFAULT_MATH = 0;        // cublasMath_t CUBLAS_DEFAULT_MATH
    static final int CUBLAS_PEDANTIC_MATH = 2;       // cublasMath_t CUBLAS_PEDANTIC_MATH
    static final int CUBLAS_TF32_TENSOR_OP_MATH = 3; // cublasMath_t CUBLAS_TF32_TENSOR_OP_MATH

    private static Api api; // bound once per process, on first use

    private final Api f;
    private final MemorySegment handle;   // cublasHandle_t
    private final CudaPrecision precision;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scalars;  // (2) float: alpha, beta (host pointer mode reads them at the call)

    /** The bound functions of one cuBLAS library, each commented with its C prototype. */
    private record Api(
            // cublasStatus_t cublasCreate_v2(cublasHandle_t *handle);
            MethodHandle create,
            // cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
            MethodHandle destroy,
            // cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId);
            MethodHandle setStream,
            // cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t workspaceSizeInBytes);
            MethodHandle setWorkspace,
            // cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
            MethodHandle setMathMode,
            // cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version);
            MethodHandle getVersion,
            // const char *cublasGetStatusString(cublasStatus_t status);
            MethodHandle statusString,
            // cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
            //     int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda,
            //     const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype,
            //     int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo);
            MethodHandle gemmEx,
            // cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa,
            //     cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A,
            //     cudaDataType Atype, int lda, long long int strideA, const void *B, cudaDataType Btype, int ldb,
            //     long long int strideB, const void *beta, void *C, cudaDataType Ctype, int ldc,
            //     long long int strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo);
            MethodHandle gemmStridedBatchedEx) {

        static Api bind(Downcalls d) {
            return new Api(
                    d.bind("cublasCreate_v2", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cublasDestroy_v2", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cublasSetStream_v2", FunctionDescriptor.of(INT, PTR, PTR)),
                    d.bind("cublasSetWorkspace_v2", FunctionDescriptor.of(INT, PTR, PTR, SIZE_T)),
                    d.bind("cublasSetMathMode", FunctionDescriptor.of(INT, PTR, INT)),
                    d.bind("cublasGetVersion_v2", FunctionDescriptor.of(INT, PTR, PTR)),
                    d.bind("cublasGetStatusString", FunctionDescriptor.of(PTR, INT)),
                    d.bind("cublasGemmEx", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT, PTR, PTR, INT,
                            INT, PTR, INT, INT, PTR, PTR, INT, INT, INT, INT)),
                    d.bind("cublasGemmStridedBatchedEx", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT,
                            PTR, PTR, INT, INT, SIZE_T, PTR, INT, INT, SIZE_T, PTR, PTR, INT, INT, SIZE_T, INT, INT,
                            INT)));
        }
    }

    private static synchronized Api api() {
        if (api == null) {
            api = Api.bind(new Downcalls(NativeLibraries.open("cuBLAS", SONAMES, OVERRIDE_ENV), "cuBLAS"));
        }
        return api;
    }

    /**
     * A handle whose work goes to {@code stream} (a CUstream address; the driver's and the runtime's streams
     * are the same objects) with {@code workspace} (device memory of {@code workspaceBytes}, owned by the caller)
     * as its only scratch, so cuBLAS allocates nothing during a step.
     */
    public Cublas(long stream, MemorySegment workspace, long workspaceBytes, CudaPrecision precision) {
        this(api(), stream, workspace, workspaceBytes, precision);
    }

    /** The same on the functions of {@code lib} (a stand-in library in the host-side tests). */
    Cublas(SymbolLookup lib, long stream, MemorySegment workspace, long workspaceBytes, CudaPrecision precision) {
        this(Api.bind(new Downcalls(lib, "cuBLAS")), stream, workspace, workspaceBytes, precision);
    }

    private Cublas(Api f, long stream, MemorySegment workspace, long workspaceBytes, CudaPrecision precision) {
        this.f = f;
        this.precision = precision;
        this.scalars = arena.allocate(ValueLayout.JAVA_FLOAT, 2);
        MemorySegment out = arena.allocate(PTR);
        check("cublasCreate_v2", call(() -> (int) f.create.invokeExact(out)));
        this.handle = out.get(PTR, 0);
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cublasSetStream_v2", call(() -> (int) f.setStream.invokeExact(handle, s)));
        check("cublasSetWorkspace_v2", call(() -> (int) f.setWorkspace.invokeExact(handle, workspace, workspaceBytes)));
        // The math mode only matters to the legacy routines; GemmEx follows its compute type. Pedantic in
        // strict mode so nothing rounds behind our back.
        int mode = precision == CudaPrecision.FP32 ? CUBLAS_PEDANTIC_MATH : CUBLAS_TF32_TENSOR_OP_MATH;
        check("cublasSetMathMode", call(() -> (int) f.setMathMode.invokeExact(handle, mode)));
    }

    /** cuBLAS's version number (e.g. 130100 for 13.1.0). */
    public int version() {
        MemorySegment v = arena.allocate(INT);
        check("cublasGetVersion_v2", call(() -> (int) f.getVersion.invokeExact(handle, v)));
        return v.get(INT, 0);
    }

    /**
     * Row-major C = alpha op(A) op(B) + beta C on device pointers, as {@code Backend.gemm} (beta 0 ignores
     * C's contents).
     */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a,
                     MemorySegment b, float beta, MemorySegment c) {
        gemm(transA, transB, m, n, k, alpha, a, transA ? m : k, b, transB ? k : n, beta, c, n);
    }

    /** {@link #gemm} with the row strides of A, B and C as stored (see {@link ColumnMajorGemm#of}). */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
                     MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        ColumnMajorGemm g = ColumnMajorGemm.of(transA, transB, m, n, k, lda, ldb, ldc);
        setScalars(alpha, beta);
        MemorySegment al = scalars, be = scalars.asSlice(4);
        check("cublasGemmEx", call(() -> (int) f.gemmEx.invokeExact(handle, g.opFirst(), g.opSecond(), g.m(), g.n(),
                g.k(), al, b, CUDA_R_32F, g.ldFirst(), a, CUDA_R_32F, g.ldSecond(), be, c, CUDA_R_32F, g.ldc(),
                precision.cublasComputeType(), CUBLAS_GEMM_DEFAULT)));
    }

    /**
     * {@code batch} independent row-major GEMMs: C_i = alpha op(A_i) op(B_i) + beta C_i, with A_i at
     * a + i * strideA floats, and so on (strides in elements, as cuBLAS takes them).
     */
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   MemorySegment a, long strideA, MemorySegment b, long strideB, float beta,
                                   MemorySegment c, long strideC, int batch) {
        ColumnMajorGemm g = ColumnMajorGemm.of(transA, transB, m, n, k);
        setScalars(alpha, beta);
        MemorySegment al = scalars, be = scalars.asSlice(4);
        check("cublasGemmStridedBatchedEx", call(() -> (int) f.gemmStridedBatchedEx.invokeExact(handle, g.opFirst(),
                g.opSecond(), g.m(), g.n(), g.k(), al, b, CUDA_R_32F, g.ldFirst(), strideB, a, CUDA_R_32F,
                g.ldSecond(), strideA, be, c, CUDA_R_32F, g.ldc(), strideC, batch, precision.cublasComputeType(),
                CUBLAS_GEMM_DEFAULT)));
    }

    private void setScalars(float alpha, float beta) {
        scalars.set(ValueLayout.JAVA_FLOAT, 0, alpha);
        scalars.set(ValueLayout.JAVA_FLOAT, 4, beta);
    }

    private void check(String function, int status) {
        if (status != 0) { // CUBLAS_STATUS_SUCCESS
            String text = Downcalls.cString(call(() -> (MemorySegment) f.statusString.invokeExact(status)));
            throw new CudaException(function + " failed: " + text + " (cublasStatus_t " + status + ")", status);
        }
    }

    @Override
    public void close() {
        check("cublasDestroy_v2", call(() -> (int) f.destroy.invokeExact(handle)));
        arena.close();
    }

    /** A downcall whose only checked exception is the Throwable of invokeExact. */
    interface Call<T> {
        T run() throws Throwable;
    }

    static <T> T call(Call<T> c) {
        try {
            return c.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
