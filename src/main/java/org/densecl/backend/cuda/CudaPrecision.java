package org.densecl.backend.cuda;

import java.util.Locale;

/**
 * The math the cuda backend's GEMMs and convolutions use. Tensors stay F32 in every mode (f32 master
 * weights and activations); the mode only says what the tensor cores may round the inputs to.
 * <ul>
 *   <li>{@code tf32} (default): inputs rounded to TF32 (10-bit mantissa), f32 accumulation, as PyTorch
 *       with allow_tf32;</li>
 *   <li>{@code fp32}: strict f32 (no tensor cores), for checks against the host backends;</li>
 *   <li>{@code bf16}, mixed precision as PyTorch's autocast: GEMMs round their inputs to bf16 (cuBLAS's
 *       FAST_16BF compute type, f32 accumulation); convolutions run on bf16 tensor cores with cuDNN's
 *       PSEUDO_BFLOAT16_CONFIG (x, w and y bf16, f32 compute type): {@link CudaConv} casts the f32
 *       activation and filter into bf16 copies (round to nearest even, native/cast.cu), in scratch sized by
 *       the first step of a shape, and casts the bf16 result back, assigning y or adding to dx and dw. So
 *       each convolution input and output is rounded to 2^-8; master weights, gradients, batch norm and
 *       every other op stay f32.</li>
 * </ul>
 */
public enum CudaPrecision {
    TF32, FP32, BF16;

    // cublasComputeType_t (cublas_api.h)
    static final int CUBLAS_COMPUTE_32F = 68;           // CUBLAS_COMPUTE_32F
    static final int CUBLAS_COMPUTE_32F_FAST_16BF = 75; // CUBLAS_COMPUTE_32F_FAST_16BF
    static final int CUBLAS_COMPUTE_32F_FAST_TF32 = 77; // CUBLAS_COMPUTE_32F_FAST_TF32
    // cudnnMathType_t (cudnn_ops.h / cudnn_graph.h)
    static final int CUDNN_TENSOR_OP_MATH = 1;          // CUDNN_TENSOR_OP_MATH
    static final int CUDNN_FMA_MATH = 3;                // CUDNN_FMA_MATH

    /** "tf32", "fp32" or "bf16", any case. */
    public static CudaPrecision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "tf32" -> TF32;
            case "fp32", "f32", "strict" -> FP32;
            case "bf16" -> BF16;
            default -> throw new IllegalArgumentException("unknown CUDA precision '" + s + "'; choose tf32 (default),"
                    + " fp32 (strict) or bf16");
        };
    }

    /** The cublasComputeType_t of cublasGemmEx for F32 operands. */
    int cublasComputeType() {
        return switch (this) {
            case TF32 -> CUBLAS_COMPUTE_32F_FAST_TF32;
            case FP32 -> CUBLAS_COMPUTE_32F;
            case BF16 -> CUBLAS_COMPUTE_32F_FAST_16BF;
        };
    }

    /**
     * The cudnnMathType_t of every convolution descriptor: tensor-op math lets cuDNN use TF32 for f32 data;
     * FMA math forbids tensor cores, so f32 stays f32 (what PyTorch sets when TF32 is disallowed).
     */
    int cudnnMathType() {
        return this == FP32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    }

    /** The cudnnDataType_t of convolutions' x, w and y: bf16 copies in bf16 mode, the f32 tensors otherwise. */
    int cudnnConvDataType() {
        return this == BF16 ? Cudnn.CUDNN_DATA_BFLOAT16 : Cudnn.CUDNN_DATA_FLOAT;
    }

    /** Relative rounding of one input under this mode: 2^-11 for TF32, 2^-8 for bf16, 2^-24 for f32. */
    public double inputRounding() {
        return switch (this) {
            case TF32 -> 0x1p-11;
            case FP32 -> 0x1p-24;
            case BF16 -> 0x1p-8;
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
