package org.densecl.backend.cuda;

/**
 * Every kernel of native/*.cu by its unmangled name. {@link CudaKernels} resolves all of them when it
 * loads the module, so a kernel missing from the fatbin fails at start, naming it; a test checks that
 * this list and the sources' {@code extern "C" __global__} names are the same set.
 */
enum CudaKernel {
    // elementwise.cu
    SCALE("scale_f32"),
    AXPY("axpy_f32"),
    ADD("add_f32"),
    ADD_RELU("add_relu_f32"),
    RELU_FORWARD("relu_forward_f32"),
    RELU_BACKWARD("relu_backward_f32"),
    BIAS_ADD("bias_add_f32"),
    COPY_CHANNELS("copy_channels_f32"),
    DROPOUT_MASK("dropout_mask_f32"),
    DROPOUT_APPLY("dropout_apply_f32"),
    // reduce.cu
    COL_SUM_PARTIAL("col_sum_partial_f32"),
    COL_SUM_FINALIZE("col_sum_finalize_f32"),
    // batchnorm.cu
    BN_STATS_PARTIAL("bn_stats_partial_f32"),
    BN_STATS_FINALIZE("bn_stats_finalize_f32"),
    BN_APPLY("bn_apply_f32"),
    BN_INFERENCE("bn_inference_f32"),
    BN_BACKWARD_PARTIAL("bn_backward_partial_f32"),
    BN_BACKWARD_FINALIZE("bn_backward_finalize_f32"),
    BN_BACKWARD_DX("bn_backward_dx_f32"),
    // pool.cu
    MAX_POOL_FORWARD("max_pool_forward_f32"),
    MAX_POOL_BACKWARD("max_pool_backward_f32"),
    GLOBAL_AVG_POOL_FORWARD("global_avg_pool_forward_f32"),
    GLOBAL_AVG_POOL_BACKWARD("global_avg_pool_backward_f32"),
    ADAPTIVE_AVG_POOL_FORWARD("adaptive_avg_pool_forward_f32"),
    ADAPTIVE_AVG_POOL_BACKWARD("adaptive_avg_pool_backward_f32"),
    // resize.cu
    RESIZE_BILINEAR_FORWARD("resize_bilinear_forward_f32"),
    RESIZE_BILINEAR_BACKWARD("resize_bilinear_backward_f32"),
    // losses.cu
    CE_LABELS("ce_labels_f32"),
    SOFTMAX_CE_FORWARD("softmax_ce_forward_f32"),
    SOFTMAX_CE_FINALIZE("softmax_ce_finalize_f32"),
    SOFTMAX_CE_BACKWARD("softmax_ce_backward_f32"),
    L2_NORMALIZE_FORWARD("l2_normalize_forward_f32"),
    L2_NORMALIZE_BACKWARD("l2_normalize_backward_f32"),
    // contrastive.cu
    DENSE_MATCH_ARGMAX("dense_match_argmax_f32"),
    DENSE_GATHER("dense_gather_f32"),
    INFONCE_POSITIVE_LOGIT("infonce_positive_logit_f32"),
    INFONCE_SOFTMAX("infonce_softmax_f32"),
    INFONCE_POSITIVE_GRAD("infonce_positive_grad_f32"),
    INFONCE_LOSS_SUM("infonce_loss_sum_f32"),
    // optim.cu
    SGD_STEP("sgd_step_f32"),
    EMA_UPDATE("ema_update_f32"),
    // finite.cu
    COUNT_NONFINITE("count_nonfinite_f32"),
    // cast.cu
    CAST_F32_TO_BF16("cast_f32_to_bf16"),
    CAST_BF16_TO_F32("cast_bf16_to_f32");

    /** The C name in the fatbin. */
    final String symbol;

    CudaKernel(String symbol) {
        this.symbol = symbol;
    }
}
