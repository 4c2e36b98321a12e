package org.densecl.densecl;

import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.BatchNorm2d;
import org.densecl.nn.Conv2d;
import org.densecl.nn.FanMode;
import org.densecl.nn.GlobalAvgPool;
import org.densecl.nn.Init;
import org.densecl.nn.Linear;
import org.densecl.nn.Parameters;
import org.densecl.nn.Relu;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * DenseCL's projection neck (spec 1.2) on a C5 map x (N, S, S, C), no BN anywhere:
 * <pre>
 *   global: avgpool -> mlp.0 Linear C->H -> ReLU -> mlp.2 Linear H->D          = z      (N, D)
 *   (with globalBatchNorm: mlp.0 Linear -> mlp.1 BN over the batch -> ReLU -> mlp.3 Linear, MoCo v3's head)
 *   dense:  mlp2.0 conv1x1 C->H -> ReLU -> mlp2.2 conv1x1 H->D                 = grid   (N, S, S, D)
 *   pooled: mean of grid over the S*S locations (before any L2 norm)           = pooled (N, D)
 * </pre>
 * Names follow OpenSelfSup's DenseCLNeck ({@code mlp.0}, {@code mlp.2}, {@code mlp2.0}, {@code mlp2.2})
 * after {@code prefix}. NHWC makes the dense grid (N, S, S, D) already the (N * S2, D) row matrix of
 * spec 2.1 with row n * S2 + i. The pooled output carries no gradient: only the key's is used (queue2).
 * Backward reads {@link #z()} and {@link #grid()} gradients and ACCUMULATES into dx.
 *
 * <p>The optional BN in the global head takes out what all images of a batch share before the ReLU. On
 * data whose images look alike (simulated knees) the pooled C5 features of every image point almost the
 * same way, the plain head maps them all to about one embedding, and it can settle there (a collapse);
 * the BN makes the head see the differences between images from the first step.
 */
public final class DenseClNeck {
    private final Shape xShape;      // (N, S, S, C)
    private final GlobalAvgPool pool;
    private final Linear fc1;
    private final BatchNorm2d bn1;   // null without globalBatchNorm; with it, the ReLU is fused into it
    private final Relu relu1;
    private final Linear fc2;
    private final Conv2d conv1;
    private final Relu relu2;
    private final Conv2d conv2;
    private final GlobalAvgPool gridPool;
    private final Act g;             // (N, C)        avgpool of x
    private final Act h;             // (N, H)        mlp.0 output (viewed as (N, 1, 1, H) by the BN)
    private final Act hr;            // (N, H)        ReLU
    private final Act z;             // (N, D)        mlp.2 output: the raw global embedding
    private final Act d1;            // (N, S, S, H)  mlp2.0 output
    private final Act d1r;           // (N, S, S, H)  ReLU
    private final Act grid;          // (N, S, S, D)  mlp2.2 output: the raw dense embeddings
    private final Act pooled;        // (N, D)        mean of grid over locations, no gradient

    /** @param globalBatchNorm a BN (train mode, PyTorch's momentum and eps) between mlp.0 and the ReLU */
    public DenseClNeck(Backend be, Parameters params, Activations acts, String prefix, Shape c5Shape,
                       int hidden, int out, boolean globalBatchNorm) {
        this.xShape = c5Shape;
        int n = c5Shape.dim(0), s1 = c5Shape.dim(1), s2 = c5Shape.dim(2), c = c5Shape.last();
        pool = new GlobalAvgPool(be, prefix + "avgpool", c5Shape);
        fc1 = new Linear(be, params, prefix + "mlp.0", n, c, hidden, true);
        bn1 = globalBatchNorm ? new BatchNorm2d(be, params, acts, prefix + "mlp.1", Shape.of(n, 1, 1, hidden), true,
                0.1f, 1e-5f) : null;
        relu1 = globalBatchNorm ? null : new Relu(be, prefix + "mlp.1", Shape.of(n, hidden));
        fc2 = new Linear(be, params, prefix + (globalBatchNorm ? "mlp.3" : "mlp.2"), n, hidden, out, true);
        ConvGeometry g1 = ConvGeometry.of(n, s1, s2, c, hidden, 1, 1, 0, 1);
        ConvGeometry g2 = ConvGeometry.of(n, s1, s2, hidden, out, 1, 1, 0, 1);
        conv1 = new Conv2d(be, params, prefix + "mlp2.0", g1, true);
        relu2 = new Relu(be, prefix + "mlp2.1", g1.yShape());
        conv2 = new Conv2d(be, params, prefix + "mlp2.2", g2, true);
        gridPool = new GlobalAvgPool(be, prefix + "gridpool", g2.yShape());
        g = acts.act(prefix + "avgpool", Shape.of(n, c));
        h = acts.act(prefix + "mlp.0", Shape.of(n, hidden));
        hr = acts.act(prefix + (globalBatchNorm ? "mlp.2" : "mlp.1"), Shape.of(n, hidden));
        z = acts.act(prefix + (globalBatchNorm ? "mlp.3" : "mlp.2"), Shape.of(n, out));
        d1 = acts.act(prefix + "mlp2.0", g1.yShape());
        d1r = acts.act(prefix + "mlp2.1", g1.yShape());
        grid = acts.act(prefix + "mlp2.2", g2.yShape());
        pooled = acts.saved(prefix + "gridpool", Shape.of(n, out));
    }

    /** The dense head's two 1x1 convolutions, mlp2.0 then mlp2.2 (FLOP counts, benchmarks). */
    public List<Conv2d> convs() {
        return List.of(conv1, conv2);
    }

    /**
     * OpenSelfSup's init: the Linear layers Kaiming-normal (fan_in, ReLU gain) with zero bias; the two
     * 1x1 convs keep PyTorch's default, weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
     */
    public void initialize(Init init) {
        init.kaimingNormal(fc1.weight(), FanMode.FAN_IN);
        init.constant(fc1.bias(), 0f);
        if (bn1 != null) {
            bn1.initialize(init, 1f);
        }
        init.kaimingNormal(fc2.weight(), FanMode.FAN_IN);
        init.constant(fc2.bias(), 0f);
        for (Conv2d conv : new Conv2d[] {conv1, conv2}) {
            double bound = 1 / Math.sqrt(conv.geometry().c());
            init.uniform(conv.weight(), bound);
            init.uniform(conv.bias(), bound);
        }
    }

    /** x (N, S, S, C): fills z, grid and pooled. */
    public void forward(Tensor x) {
        Check.shape("DenseClNeck.forward", "x", x, xShape);
        pool.forward(x, g.value());
        fc1.forward(g.value(), h.value());
        if (bn1 != null) {
            bn1.forward(h.value().view(bnShape()), hr.value().view(bnShape()), true);
        } else {
            relu1.forward(h.value(), hr.value());
        }
        fc2.forward(hr.value(), z.value());
        conv1.forward(x, d1.value());
        relu2.forward(d1.value(), d1r.value());
        conv2.forward(d1r.value(), grid.value());
        gridPool.forward(grid.value(), pooled.value());
    }

    /** From the gradients in z and grid: parameter gradients and dx (N, S, S, C) += both heads' parts. */
    public void backward(Tensor x, Tensor dx) {
        fc2.backward(hr.value(), z.grad(), hr.grad());
        if (bn1 != null) {
            bn1.backward(h.value().view(bnShape()), hr.value().view(bnShape()), hr.grad().view(bnShape()),
                    h.grad().view(bnShape()), true);
        } else {
            relu1.backward(hr.value(), hr.grad(), h.grad());
        }
        fc1.backward(g.value(), h.grad(), g.grad());
        pool.backward(g.grad(), dx);
        conv2.backward(d1r.value(), grid.grad(), d1r.grad());
        relu2.backward(d1r.value(), d1r.grad(), d1.grad());
        conv1.backward(x, d1.grad(), dx);
    }

    /** (N, 1, 1, H): the BN's NHWC view of an (N, H) hidden activation. */
    private Shape bnShape() {
        return Shape.of(h.value().shape().dim(0), 1, 1, h.value().shape().dim(1));
    }

    /** (N, H) the global head's hidden ReLU output (mlp.1, or mlp.2 after a BN). */
    public Act hidden() {
        return hr;
    }

    /** (N, D) raw global embedding. */
    public Act z() {
        return z;
    }

    /** (N, S, S, D) raw dense embeddings. */
    public Act grid() {
        return grid;
    }

    /** (N, D) mean of the raw dense embeddings over locations (value only). */
    public Act pooled() {
        return pooled;
    }
}
