package org.densecl.backend.cuda;

import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * The cuda backend's memory-bound ops: fills and copies on the driver (memset, device-to-device copy), the
 * rest on our kernels ({@link CudaKernels}), all queued on the main stream. Only countNonFinite returns to
 * the host (its kernel's 8-byte count). Dropout's mask is made on the device by the same hash as
 * DropoutMask, so nothing crosses the bus there either.
 */
final class CudaElementwise {
    private final CudaContext context;
    private final CudaKernels kernels;
    private final long stream;
    private final Workspace columnSums; // biasBackward's partial sums: (2, groups, C) + (2, C) doubles
    private final long counter;         // (1) u64 on the device: countNonFinite's result

    CudaElementwise(CudaContext context, CudaKernels kernels, Workspace columnSums, long counter) {
        this.context = context;
        this.kernels = kernels;
        this.stream = context.mainStream();
        this.columnSums = columnSums;
        this.counter = counter;
    }

    void zero(Tensor x) {
        Check.that(!x.isHost(), "zero", "x is host memory " + x + "; allocate it with this backend");
        context.driver().memsetD8Async(x.data().address(), (byte) 0, x.byteSize(), stream);
    }

    void fill(Tensor x, float value) {
        context.driver().memsetD32Async(CudaArgs.f32Address("fill", "x", x), Float.floatToRawIntBits(value),
                x.numel(), stream);
    }

    void copy(Tensor src, Tensor dst) {
        Check.numel("copy", "dst", dst, src.numel());
        Check.that(src.dtype() == dst.dtype(), "copy", "src is " + src.dtype() + " but dst is " + dst.dtype());
        Check.that(!src.isHost() && !dst.isHost(), "copy", "src and dst must be device tensors of this backend");
        context.driver().memcpyDtoDAsync(dst.data().address(), src.data().address(), src.byteSize(), stream);
    }

    void scale(Tensor x, float alpha) {
        kernels.scale(stream, CudaArgs.f32Address("scale", "x", x), x.numel(), alpha);
    }

    void axpy(float alpha, Tensor x, Tensor y) {
        Check.numel("axpy", "y", y, x.numel());
        kernels.axpy(stream, CudaArgs.f32Address("axpy", "x", x), CudaArgs.f32Address("axpy", "y", y), x.numel(),
                alpha);
    }

    void add(Tensor a, Tensor b, Tensor y) {
        sameCount("add", a, b, y);
        kernels.add(stream, CudaArgs.f32Address("add", "a", a), CudaArgs.f32Address("add", "b", b),
                CudaArgs.f32Address("add", "y", y), a.numel());
    }

    void addRelu(Tensor a, Tensor b, Tensor y) {
        sameCount("addRelu", a, b, y);
        kernels.addRelu(stream, CudaArgs.f32Address("addRelu", "a", a), CudaArgs.f32Address("addRelu", "b", b),
                CudaArgs.f32Address("addRelu", "y", y), a.numel());
    }

    void reluForward(Tensor x, Tensor y) {
        Check.same("reluForward", "y", y, "x", x);
        kernels.reluForward(stream, CudaArgs.f32Address("reluForward", "x", x), CudaArgs.f32Address("reluForward", "y",
                y), x.numel());
    }

    void reluBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Check.same("reluBackward", "dy", dy, "y", y);
        Check.same("reluBackward", "dx", dx, "y", y);
        kernels.reluBackward(stream, CudaArgs.f32Address("reluBackward", "y", y),
                CudaArgs.f32Address("reluBackward", "dy", dy), CudaArgs.f32Address("reluBackward", "dx", dx),
                y.numel(), accumulate);
    }

    long countNonFinite(Tensor x) {
        return kernels.countNonFinite(stream, CudaArgs.f32Address("countNonFinite", "x", x), x.numel(), counter);
    }

    void biasAdd(Tensor y, Tensor b) {
        long[] mc = rowsAndChannels("biasAdd", y);
        Check.shape("biasAdd", "b", b, Shape.of((int) mc[1]));
        kernels.biasAdd(stream, CudaArgs.f32Address("biasAdd", "y", y), CudaArgs.f32Address("biasAdd", "b", b), mc[0],
                (int) mc[1]);
    }

    void biasBackward(Tensor dy, Tensor db) {
        long[] mc = rowsAndChannels("biasBackward", dy);
        int c = (int) mc[1];
        Check.shape("biasBackward", "db", db, Shape.of(c));
        long ws = columnSums.reserve(CudaKernels.columnWorkspaceBytes(mc[0], c)).address();
        kernels.biasBackward(stream, CudaArgs.f32Address("biasBackward", "dy", dy),
                CudaArgs.f32Address("biasBackward", "db", db), mc[0], c, ws);
    }

    void copyChannels(Tensor src, int srcChannel, Tensor dst, int dstChannel, int count, boolean accumulate) {
        String op = "copyChannels";
        long m = Check.channelBlock(op, src, srcChannel, dst, dstChannel, count);
        kernels.copyChannels(stream, CudaArgs.f32Address(op, "src", src), src.shape().last(), srcChannel,
                CudaArgs.f32Address(op, "dst", dst), dst.shape().last(), dstChannel, m, count, accumulate);
    }

    void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        String op = "dropout2dForward";
        Check.rank(op, "x", x, 4, "(N, H, W, C)");
        Check.that(p >= 0f && p <= 1f, op, "drop probability p=" + p + " is outside [0, 1]");
        Shape s = x.shape();
        Check.shape(op, "mask", mask, Shape.of(s.dim(0), s.dim(3)));
        Check.same(op, "y", y, "x", x);
        long m = CudaArgs.f32Address(op, "mask", mask);
        kernels.dropoutMask(stream, m, s.dim(0), s.dim(3), seed, p);
        kernels.dropoutApply(stream, CudaArgs.f32Address(op, "x", x), m, CudaArgs.f32Address(op, "y", y), s.dim(0),
                (long) s.dim(1) * s.dim(2), s.dim(3), false);
    }

    void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx) {
        String op = "dropout2dBackward";
        Check.rank(op, "dy", dy, 4, "(N, H, W, C)");
        Shape s = dy.shape();
        Check.shape(op, "mask", mask, Shape.of(s.dim(0), s.dim(3)));
        Check.same(op, "dx", dx, "dy", dy);
        kernels.dropoutApply(stream, CudaArgs.f32Address(op, "dy", dy), CudaArgs.f32Address(op, "mask", mask),
                CudaArgs.f32Address(op, "dx", dx), s.dim(0), (long) s.dim(1) * s.dim(2), s.dim(3), true);
    }

    /** {rows, channels} of a tensor seen as (M, C), C its last dimension. */
    static long[] rowsAndChannels(String op, Tensor t) {
        Check.that(t.shape().rank() >= 1 && t.shape().last() > 0, op, "needs a last (channel) dimension, got "
                + t.shape());
        return new long[] {t.numel() / t.shape().last(), t.shape().last()};
    }

    private static void sameCount(String op, Tensor a, Tensor b, Tensor y) {
        Check.numel(op, "b", b, a.numel());
        Check.numel(op, "y", y, a.numel());
    }
}
