package org.densecl.backend.cuda;

import org.densecl.backend.Check;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Pooling and bilinear resize on our kernels (not cuDNN's pooling: its max-pool backward does not promise
 * PyTorch's first-maximum routing, which matters on ReLU outputs full of tied zeros, and it has no
 * adaptive average pool). Shapes are checked here; the kernels trust them.
 */
final class CudaPooling {
    private final CudaKernels kernels;
    private final long stream;

    CudaPooling(CudaKernels kernels, long stream) {
        this.kernels = kernels;
        this.stream = stream;
    }

    void maxForward(PoolGeometry g, Tensor x, Tensor y) {
        String op = "maxPoolForward";
        Check.shape(op, "x", x, g.xShape());
        Check.shape(op, "y", y, g.yShape());
        kernels.maxPoolForward(stream, CudaArgs.f32Address(op, "x", x), CudaArgs.f32Address(op, "y", y), g);
    }

    void maxBackward(PoolGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        String op = "maxPoolBackward";
        Check.shape(op, "x", x, g.xShape());
        Check.shape(op, "y", y, g.yShape());
        Check.shape(op, "dy", dy, g.yShape());
        Check.shape(op, "dx", dx, g.xShape());
        kernels.maxPoolBackward(stream, CudaArgs.f32Address(op, "x", x), CudaArgs.f32Address(op, "dy", dy),
                CudaArgs.f32Address(op, "dx", dx), g); // the kernel finds each window's first max in x again
    }

    void globalAvgForward(Tensor x, Tensor y) {
        String op = "globalAvgPoolForward";
        Check.rank(op, "x", x, 4, "(N, H, W, C)");
        Shape s = x.shape();
        Check.shape(op, "y", y, Shape.of(s.dim(0), s.dim(3)));
        kernels.globalAvgPoolForward(stream, CudaArgs.f32Address(op, "x", x), CudaArgs.f32Address(op, "y", y),
                s.dim(0), (long) s.dim(1) * s.dim(2), s.dim(3));
    }

    void globalAvgBackward(Tensor dy, Tensor dx) {
        String op = "globalAvgPoolBackward";
        Check.rank(op, "dx", dx, 4, "(N, H, W, C)");
        Shape s = dx.shape();
        Check.shape(op, "dy", dy, Shape.of(s.dim(0), s.dim(3)));
        kernels.globalAvgPoolBackward(stream, CudaArgs.f32Address(op, "dy", dy), CudaArgs.f32Address(op, "dx", dx),
                s.dim(0), (long) s.dim(1) * s.dim(2), s.dim(3));
    }

    void adaptiveAvgForward(Tensor x, Tensor y) {
        String op = "adaptiveAvgPoolForward";
        Shape b = bigSmall(op, "x", x, "y", y);
        Shape s = y.shape();
        kernels.adaptiveAvgPoolForward(stream, CudaArgs.f32Address(op, "x", x), CudaArgs.f32Address(op, "y", y),
                b.dim(0), b.dim(1), b.dim(2), b.dim(3), s.dim(1), s.dim(2));
    }

    void adaptiveAvgBackward(Tensor dy, Tensor dx) {
        String op = "adaptiveAvgPoolBackward";
        Shape b = bigSmall(op, "dx", dx, "dy", dy);
        Shape s = dy.shape();
        kernels.adaptiveAvgPoolBackward(stream, CudaArgs.f32Address(op, "dy", dy), CudaArgs.f32Address(op, "dx", dx),
                b.dim(0), b.dim(1), b.dim(2), b.dim(3), s.dim(1), s.dim(2));
    }

    void resizeForward(Tensor x, Tensor y, boolean alignCorners) {
        String op = "resizeBilinearForward";
        Shape i = sameBatchAndChannels(op, "x", x, "y", y), o = y.shape();
        kernels.resizeBilinearForward(stream, CudaArgs.f32Address(op, "x", x), CudaArgs.f32Address(op, "y", y),
                i.dim(0), i.dim(1), i.dim(2), i.dim(3), o.dim(1), o.dim(2), alignCorners);
    }

    void resizeBackward(Tensor dy, Tensor dx, boolean alignCorners) {
        String op = "resizeBilinearBackward";
        Shape i = sameBatchAndChannels(op, "dx", dx, "dy", dy), o = dy.shape();
        kernels.resizeBilinearBackward(stream, CudaArgs.f32Address(op, "dy", dy), CudaArgs.f32Address(op, "dx", dx),
                i.dim(0), i.dim(1), i.dim(2), i.dim(3), o.dim(1), o.dim(2), alignCorners);
    }

    private static Shape bigSmall(String op, String bigName, Tensor big, String smallName, Tensor small) {
        Shape b = sameBatchAndChannels(op, bigName, big, smallName, small);
        Check.that(small.shape().dim(1) <= b.dim(1) && small.shape().dim(2) <= b.dim(2), op, smallName + " "
                + small.shape() + " is larger than " + bigName + " " + b);
        return b;
    }

    private static Shape sameBatchAndChannels(String op, String aName, Tensor a, String bName, Tensor b) {
        Check.rank(op, aName, a, 4, "(N, H, W, C)");
        Check.rank(op, bName, b, 4, "(N, H, W, C)");
        Check.that(a.shape().dim(0) == b.shape().dim(0) && a.shape().dim(3) == b.shape().dim(3), op, aName + " "
                + a.shape() + " and " + bName + " " + b.shape() + " differ in N or C");
        return a.shape();
    }
}
