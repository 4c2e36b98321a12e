package org.densecl.backend.cuda;

import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;

/**
 * A CUDA context with our kernels next to the ref backend, for tests that run a kernel on device copies
 * of host tensors and compare with the ref op. Device buffers live until {@link #close()}.
 */
final class GpuVsRef implements AutoCloseable {
    final RefBackend ref = new RefBackend();
    final CudaContext ctx;
    final CudaKernels k;
    final long stream;

    /**
     * Device 0 of {@code driver} (the real one, or the stand-in that emulates kernels), with kernels whose
     * grid-stride launches use at most {@code maxGrid} blocks.
     */
    GpuVsRef(CudaDriver driver, int maxGrid) {
        ctx = CudaContext.open(driver, 0);
        k = CudaKernels.load(ctx, maxGrid);
        stream = ctx.mainStream();
    }

    /** A host F32 tensor, uniform in [lo, hi). */
    Tensor uniform(long seed, double lo, double hi, int... dims) {
        Tensor t = ref.allocate(Shape.of(dims));
        Rand.uniform(t, seed, lo, hi);
        return t;
    }

    Tensor zeros(int... dims) {
        return ref.allocate(Shape.of(dims));
    }

    Tensor labels(long seed, int bound, int ignore, double ignoreFraction, int m) {
        Tensor t = ref.allocate(DType.I32, Shape.of(m));
        Rand.labels(t, seed, bound, ignore, ignoreFraction);
        return t;
    }

    /** A device copy of a host tensor (any dtype); returns the device pointer. */
    long dev(Tensor host) {
        long p = ctx.allocate(Math.max(host.byteSize(), 8));
        ctx.driver().memcpyHtoDAsync(p, host.data(), host.byteSize(), stream);
        ctx.driver().streamSynchronize(stream);
        return p;
    }

    /** Device scratch of {@code bytes}, zeroed. */
    long scratch(long bytes) {
        return ctx.allocate(Math.max(bytes, 8));
    }

    /** One u64 of device memory set to ULLONG_MAX: an empty bad-label or bad-index record. */
    long noError() {
        long p = scratch(8);
        ctx.driver().memsetD8Async(p, (byte) 0xFF, 8, stream);
        return p;
    }

    /** Waits for the stream and copies {@code ptr} into a fresh host tensor shaped like {@code like}. */
    Tensor host(long ptr, Tensor like) {
        Tensor out = ref.allocate(like.dtype(), like.shape());
        ctx.driver().memcpyDtoHAsync(out.data(), ptr, like.byteSize(), stream);
        ctx.driver().streamSynchronize(stream);
        return out;
    }

    /** Compares the device result at {@code ptr} with the ref result {@code expected}. */
    void assertClose(String what, Tensor expected, long ptr, double atol, double rtol) {
        TensorAssert.close(what, expected, host(ptr, expected), atol, rtol);
    }

    /** A host copy of a host tensor (the ref op's own output buffer). */
    Tensor copy(Tensor t) {
        Tensor c = ref.allocate(t.dtype(), t.shape());
        c.data().copyFrom(t.data());
        return c;
    }

    @Override
    public void close() {
        k.close();
        ctx.close();
        ref.close();
    }
}
