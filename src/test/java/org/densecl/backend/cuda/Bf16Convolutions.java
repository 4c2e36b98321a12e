package org.densecl.backend.cuda;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.densecl.backend.Backend;
import org.densecl.backend.ConvGeometry;
import org.densecl.tensor.Tensor;

/**
 * A host backend whose convolutions round as cuda:bf16's do ({@link CudaConv} with {@link Bf16Operands}):
 * x, w and dy rounded to bf16 before the convolution, its result rounded to bf16 and then assigned to y
 * (the bias added after, in f32) or added to dx and dw; every other op is the host backend's own. The
 * oracle of the bf16 convolution tests: the rounding is the model's, so what is left between it and
 * cuda:bf16 is summation order, as between ref and cuda:fp32 (and the rare result whose f32 value sits on
 * the other side of a bf16 rounding boundary).
 */
final class Bf16Convolutions {
    private Bf16Convolutions() {}

    /** {@code host} with bf16 convolutions (a proxy; closing it closes host). */
    static Backend on(Backend host) {
        if (!host.isHost()) {
            throw new IllegalArgumentException("Bf16Convolutions needs a host backend, got " + host.name());
        }
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "conv2dForward" -> forward(host, args);
                    case "conv2dBackwardData" -> backwardData(host, args);
                    case "conv2dBackwardFilter" -> backwardFilter(host, args);
                    default -> call(host, m, args);
                });
    }

    private static Object call(Backend host, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(host, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Object forward(Backend be, Object[] a) {
        ConvGeometry g = (ConvGeometry) a[0];
        Tensor x = (Tensor) a[1], w = (Tensor) a[2], bias = (Tensor) a[3], y = (Tensor) a[4];
        be.conv2dForward(g, rounded(be, x), rounded(be, w), null, y);
        round(y);
        if (bias != null) {
            be.biasAdd(y, bias);
        }
        return null;
    }

    private static Object backwardData(Backend be, Object[] a) {
        ConvGeometry g = (ConvGeometry) a[0];
        Tensor dy = (Tensor) a[1], w = (Tensor) a[2], dx = (Tensor) a[3];
        boolean accumulate = a.length < 5 || (Boolean) a[4];
        Tensor result = be.allocate(dx.shape()); // (N, H, W, C)
        be.conv2dBackwardData(g, rounded(be, dy), rounded(be, w), result, false);
        round(result);
        if (accumulate) {
            be.axpy(1f, result, dx);
        } else {
            be.copy(result, dx);
        }
        return null;
    }

    private static Object backwardFilter(Backend be, Object[] a) {
        ConvGeometry g = (ConvGeometry) a[0];
        Tensor x = (Tensor) a[1], dy = (Tensor) a[2], dw = (Tensor) a[3], db = (Tensor) a[4];
        Tensor result = be.allocate(dw.shape()); // (K, R, S, C)
        be.conv2dBackwardFilter(g, rounded(be, x), rounded(be, dy), result, null);
        round(result);
        be.axpy(1f, result, dw);
        if (db != null) {
            be.biasBackward(dy, db); // from the f32 dy, as cuDNN's backward bias
        }
        return null;
    }

    /** A bf16-rounded copy of {@code t}. */
    private static Tensor rounded(Backend be, Tensor t) {
        Tensor copy = be.allocate(t.shape()); // (t's shape)
        be.copy(t, copy);
        round(copy);
        return copy;
    }

    private static void round(Tensor t) {
        for (long i = 0; i < t.numel(); i++) {
            t.setFloat(i, Bf16Reference.value(Bf16Reference.round(t.getFloat(i))));
        }
    }
}
