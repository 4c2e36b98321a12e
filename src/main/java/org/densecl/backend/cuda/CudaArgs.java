package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import org.densecl.backend.Check;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * Device pointers of op arguments, checked: every tensor an op of the cuda backend touches must be device
 * memory of the right type. A host tensor here means a caller mixed backends; an op never reads host
 * memory of a tensor (device tensors have zero-length segments, so it could not even if it tried).
 */
final class CudaArgs {
    private CudaArgs() {}

    /** The device address of F32 tensor {@code t} (argument {@code arg} of {@code op}). */
    static MemorySegment f32(String op, String arg, Tensor t) {
        Check.dtype(op, arg, t, DType.F32);
        return device(op, arg, t);
    }

    /** The device address of I32 tensor {@code t}. */
    static MemorySegment i32(String op, String arg, Tensor t) {
        Check.dtype(op, arg, t, DType.I32);
        return device(op, arg, t);
    }

    /** The raw address, for the kernels' launch arguments. */
    static long f32Address(String op, String arg, Tensor t) {
        return f32(op, arg, t).address();
    }

    static long i32Address(String op, String arg, Tensor t) {
        return i32(op, arg, t).address();
    }

    private static MemorySegment device(String op, String arg, Tensor t) {
        Check.that(!t.isHost(), op, arg + " is host memory " + t + "; the cuda backend works on its own device"
                + " tensors (allocate them with this backend)");
        return t.data();
    }
}
