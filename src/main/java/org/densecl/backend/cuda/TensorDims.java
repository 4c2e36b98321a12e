package org.densecl.backend.cuda;

/**
 * The four dimensions and element strides of a cuDNN 4-d tensor descriptor, in cuDNN's fixed (N, C, H, W)
 * order whatever the memory layout; cudnnSetTensor4dDescriptorEx takes exactly these eight numbers. Our
 * activations are NHWC, so C is the fastest dimension (stride 1) and W steps over C elements. A record so
 * that it is the key of the descriptor cache.
 */
record TensorDims(int n, int c, int h, int w, int nStride, int cStride, int hStride, int wStride) {

    /** A dense NHWC tensor (N, H, W, C). */
    static TensorDims nhwc(int n, int h, int w, int c) {
        return new TensorDims(n, c, h, w, h * w * c, 1, w * c, c);
    }

    /**
     * An (M, C) tensor whose last dimension is the channels, seen as NHWC (M, 1, 1, C): per-channel ops
     * (batch norm, bias) reduce over M exactly as over N, H, W.
     */
    static TensorDims rows(int m, int c) {
        return nhwc(m, 1, 1, c);
    }

    /** A per-channel vector (C) as cuDNN's bias and batch-norm parameter shape (1, C, 1, 1). */
    static TensorDims perChannel(int c) {
        return nhwc(1, 1, 1, c);
    }

    /**
     * {@code count} channels starting anywhere in rows of {@code rowLength} floats: (M, count) with row stride
     * rowLength. The start offset goes into the pointer, not the descriptor (copyChannels' blocks).
     */
    static TensorDims channelBlock(int m, int count, int rowLength) {
        return new TensorDims(m, count, 1, 1, rowLength, 1, rowLength, rowLength);
    }

    long numel() {
        return (long) n * c * h * w;
    }
}
