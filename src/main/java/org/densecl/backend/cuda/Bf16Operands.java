package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import org.densecl.tensor.Tensor;

/**
 * The bf16 operands of cuDNN's bf16 convolutions ({@link CudaPrecision#BF16}): the f32 activation and filter
 * cast into bf16 copies before a call, and cuDNN's bf16 result cast back into the f32 tensor after it. One
 * grow-once buffer per operand role, so the first step of a shape sizes them and later steps allocate
 * nothing; every cast is queued on the main stream, in order with the convolution that reads or writes it.
 */
final class Bf16Operands {
    /** Which buffer an operand lives in; each direction uses each role once. */
    enum Role {
        /** x (forward, backward-filter) or dx (backward-data): (N, H, W, C) */
        ACTIVATION,
        /** w (forward, backward-data) or dw (backward-filter): (K, R, S, C) */
        FILTER,
        /** y (forward) or dy (backward-data, backward-filter): (N, P, Q, K) */
        OUTPUT
    }

    private static final long BF16_BYTES = 2;

    private final CudaKernels kernels;
    private final long stream;
    private final Workspace[] buffers; // by Role: (numel) bf16 each

    Bf16Operands(CudaKernels kernels, long stream, Workspace activation, Workspace filter, Workspace output) {
        this.kernels = kernels;
        this.stream = stream;
        this.buffers = new Workspace[] {activation, filter, output};
    }

    /** A bf16 copy of the f32 tensor {@code t} (argument {@code name} of {@code op}) in {@code role}'s buffer. */
    MemorySegment copyOf(Role role, String op, String name, Tensor t) {
        MemorySegment copy = result(role, t.numel());
        kernels.castToBf16(stream, CudaArgs.f32Address(op, name, t), copy.address(), t.numel());
        return copy;
    }

    /** {@code role}'s buffer with room for {@code numel} bf16 values, for cuDNN to write a result into. */
    MemorySegment result(Role role, long numel) {
        return buffers[role.ordinal()].reserve(numel * BF16_BYTES);
    }

    /** dst = (or += when accumulate) the bf16 result in {@code role}'s buffer, as f32. */
    void castBack(Role role, String op, String name, Tensor dst, boolean accumulate) {
        MemorySegment result = result(role, dst.numel());
        kernels.castToF32(stream, result.address(), CudaArgs.f32Address(op, name, dst), dst.numel(), accumulate);
    }
}
