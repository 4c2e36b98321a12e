package org.densecl.model;

import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.ConvGeometry;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.BatchNorm2d;
import org.densecl.nn.Conv2d;
import org.densecl.nn.FanMode;
import org.densecl.nn.Init;
import org.densecl.nn.Parameters;
import org.densecl.nn.Relu;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * torchvision's Bottleneck ("v1.5": the stride sits on the 3x3):
 * <pre>
 *   conv1 1x1 (Cin -> p) -> bn1 -> relu -> conv2 3x3 (p -> p, stride s, dilation d, pad d) -> bn2 -> relu
 *     -> conv3 1x1 (p -> 4p) -> bn3 -> (+ shortcut) -> relu
 *   shortcut = x, or downsample.0 conv1x1 (Cin -> 4p, stride s) -> downsample.1 BN
 * </pre>
 * BN-ReLU pairs are fused. bn3, the shortcut sum and the final ReLU run as one pass
 * ({@link BatchNorm2d#forwardAddRelu}) that writes the output, so neither bn3's output nor the
 * pre-activation sum is ever stored; the sum's gradient is {@code add} (or dx itself, see backward).
 */
public final class Bottleneck implements ResidualBlock {
    private final Backend be;
    private final int stride, dilation;
    private final Conv2d conv1, conv2, conv3, dsConv;  // dsConv null without downsample
    private final BatchNorm2d bn1, bn2, bn3, dsBn;
    private final Relu relu;
    private final Act t1;   // (N, H, W, p)   conv1 output
    private final Act a1;   // (N, H, W, p)   bn1 + relu
    private final Act t2;   // (N, P, Q, p)   conv2 output
    private final Act a2;   // (N, P, Q, p)   bn2 + relu
    private final Act t3;   // (N, P, Q, 4p)  conv3 output
    private final Act td;   // (N, P, Q, 4p)  downsample conv output (null without downsample)
    private final Act ad;   // (N, P, Q, 4p)  downsample BN output, value only: its gradient is add's
    private final Act add;  // (N, P, Q, 4p)  gradient of the residual sum (pre-ReLU), no value; unused by an
                            //                identity block whose dx is assigned
    private final Act out;  // (N, P, Q, 4p)  block output

    /**
     * @param xShape     the input (N, H, W, Cin)
     * @param planes     p; the output has 4p channels
     * @param stride     the 3x3's (and the downsample's) stride
     * @param dilation   the 3x3's dilation (and padding)
     * @param downsample whether the shortcut is a projection (first block of a stage whose shape changes)
     */
    public Bottleneck(Backend be, Parameters params, Activations acts, String name, ResNetConfig cfg, Shape xShape,
                      int planes, int stride, int dilation, boolean downsample) {
        this.be = be;
        this.stride = stride;
        this.dilation = dilation;
        int n = xShape.dim(0), h = xShape.dim(1), w = xShape.dim(2), cin = xShape.dim(3), cout = planes * 4;
        ConvGeometry g1 = ConvGeometry.of(n, h, w, cin, planes, 1, 1, 0, 1);
        ConvGeometry g2 = ConvGeometry.of(n, h, w, planes, planes, 3, stride, dilation, dilation);
        ConvGeometry g3 = ConvGeometry.of(n, g2.p(), g2.q(), planes, cout, 1, 1, 0, 1);
        float mom = cfg.bnMomentum(), eps = cfg.bnEps();
        // Declaration order = torchvision's state_dict order: conv1, bn1, conv2, bn2, conv3, bn3, downsample.
        conv1 = new Conv2d(be, params, name + ".conv1", g1, false);
        bn1 = new BatchNorm2d(be, params, acts, name + ".bn1", g1.yShape(), true, mom, eps);
        conv2 = new Conv2d(be, params, name + ".conv2", g2, false);
        bn2 = new BatchNorm2d(be, params, acts, name + ".bn2", g2.yShape(), true, mom, eps);
        conv3 = new Conv2d(be, params, name + ".conv3", g3, false);
        bn3 = new BatchNorm2d(be, params, acts, name + ".bn3", g3.yShape(), false, mom, eps);
        if (downsample) {
            ConvGeometry gd = ConvGeometry.of(n, h, w, cin, cout, 1, stride, 0, 1);
            dsConv = new Conv2d(be, params, name + ".downsample.0", gd, false);
            dsBn = new BatchNorm2d(be, params, acts, name + ".downsample.1", gd.yShape(), false, mom, eps);
            td = acts.act(name + ".downsample.0", gd.yShape());
            ad = acts.saved(name + ".downsample.1", gd.yShape());
        } else {
            if (cin != cout || stride != 1) {
                throw new IllegalArgumentException(name + ": an identity shortcut needs Cin == 4p and stride 1,"
                        + " got Cin " + cin + ", 4p " + cout + ", stride " + stride);
            }
            dsConv = null;
            dsBn = null;
            td = null;
            ad = null;
        }
        relu = new Relu(be, name + ".relu", g3.yShape());
        t1 = acts.act(name + ".conv1", g1.yShape());
        a1 = acts.act(name + ".bn1", g1.yShape());
        t2 = acts.act(name + ".conv2", g2.yShape());
        a2 = acts.act(name + ".bn2", g2.yShape());
        t3 = acts.act(name + ".conv3", g3.yShape());
        add = acts.gradOnly(name + ".add", g3.yShape());
        out = acts.act(name, g3.yShape());
        for (Act a : td == null ? List.of(t1, a1, t2, a2, t3, add) : List.of(t1, a1, t2, a2, t3, td, add)) {
            acts.assignsGrad(a); // see backward
        }
    }

    @Override
    public int stride() {
        return stride;
    }

    @Override
    public int dilation() {
        return dilation;
    }

    @Override
    public boolean hasDownsample() {
        return dsConv != null;
    }

    @Override
    public List<Conv2d> convs() {
        return dsConv == null ? List.of(conv1, conv2, conv3) : List.of(conv1, conv2, conv3, dsConv);
    }

    @Override
    public Act output() {
        return out;
    }

    @Override
    public void forward(Tensor x, boolean training) {
        conv1.forward(x, t1.value());
        bn1.forward(t1.value(), a1.value(), training);
        conv2.forward(a1.value(), t2.value());
        bn2.forward(t2.value(), a2.value(), training);
        conv3.forward(a2.value(), t3.value());
        Tensor shortcut = x;
        if (dsConv != null) {
            dsConv.forward(x, td.value());
            dsBn.forward(td.value(), ad.value(), training);
            shortcut = ad.value();
        }
        bn3.forwardAddRelu(t3.value(), shortcut, out.value(), training);
    }

    @Override
    public void backward(Tensor x, Tensor dx, boolean accumulateDx) {
        // Every internal gradient is assigned by its first (and only) writer: false below. The sum's
        // gradient flows unchanged into both summands, the shortcut's part into dx first. With an identity
        // shortcut and dx assigned, dx itself holds the sum's gradient (no copy); bn3 reads it before
        // conv1 adds the branch's part.
        Tensor sumGrad = dsConv == null && !accumulateDx ? dx : add.grad();
        relu.backward(out.value(), out.grad(), sumGrad, false);
        if (dsConv != null) {
            dsBn.backward(td.value(), null, sumGrad, td.grad(), false);
            dsConv.backward(x, td.grad(), dx, accumulateDx);
        } else if (accumulateDx) {
            be.axpy(1f, sumGrad, dx);
        }
        bn3.backward(t3.value(), null, sumGrad, t3.grad(), false);
        conv3.backward(a2.value(), t3.grad(), a2.grad(), false);
        bn2.backward(t2.value(), a2.value(), a2.grad(), t2.grad(), false);
        conv2.backward(a1.value(), t2.grad(), a1.grad(), false);
        bn1.backward(t1.value(), a1.value(), a1.grad(), t1.grad(), false);
        conv1.backward(x, t1.grad(), dx, true);
    }

    @Override
    public void initialize(Init init, FanMode mode, boolean zeroInitResidual) {
        conv1.initialize(init, mode);
        bn1.initialize(init, 1f);
        conv2.initialize(init, mode);
        bn2.initialize(init, 1f);
        conv3.initialize(init, mode);
        bn3.initialize(init, zeroInitResidual ? 0f : 1f);
        if (dsConv != null) {
            dsConv.initialize(init, mode);
            dsBn.initialize(init, 1f);
        }
    }
}
