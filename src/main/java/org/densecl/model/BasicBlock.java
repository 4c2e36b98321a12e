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
 * torchvision's BasicBlock (ResNet-18/34):
 * <pre>
 *   conv1 3x3 (Cin -> p, stride s, dilation d, pad d) -> bn1 -> relu -> conv2 3x3 (p -> p, pad 1) -> bn2
 *     -> (+ shortcut) -> relu
 *   shortcut = x, or downsample.0 conv1x1 (Cin -> p, stride s) -> downsample.1 BN
 * </pre>
 * torchvision refuses dilation in a BasicBlock; for a dilated ResNet-18/34 we follow mmsegmentation's
 * BasicBlock, which dilates conv1 only. With dilation 1 the two are the same network.
 */
public final class BasicBlock implements ResidualBlock {
    private final Backend be;
    private final int stride, dilation;
    private final Conv2d conv1, conv2, dsConv;  // dsConv null without downsample
    private final BatchNorm2d bn1, bn2, dsBn;
    private final Relu relu;
    private final Act t1;   // (N, P, Q, p)  conv1 output
    private final Act a1;   // (N, P, Q, p)  bn1 + relu
    private final Act t2;   // (N, P, Q, p)  conv2 output
    private final Act td;   // (N, P, Q, p)  downsample conv output (null without downsample)
    private final Act ad;   // (N, P, Q, p)  downsample BN output, value only
    private final Act add;  // (N, P, Q, p)  gradient of the residual sum, no value; unused by an identity
                            //               block whose dx is assigned
    private final Act out;  // (N, P, Q, p)  block output

    /** As {@link Bottleneck#Bottleneck}, with expansion 1: the output has {@code planes} channels. */
    public BasicBlock(Backend be, Parameters params, Activations acts, String name, ResNetConfig cfg, Shape xShape,
                      int planes, int stride, int dilation, boolean downsample) {
        this.be = be;
        this.stride = stride;
        this.dilation = dilation;
        int n = xShape.dim(0), h = xShape.dim(1), w = xShape.dim(2), cin = xShape.dim(3);
        ConvGeometry g1 = ConvGeometry.of(n, h, w, cin, planes, 3, stride, dilation, dilation);
        ConvGeometry g2 = ConvGeometry.of(n, g1.p(), g1.q(), planes, planes, 3, 1, 1, 1);
        float mom = cfg.bnMomentum(), eps = cfg.bnEps();
        conv1 = new Conv2d(be, params, name + ".conv1", g1, false);
        bn1 = new BatchNorm2d(be, params, acts, name + ".bn1", g1.yShape(), true, mom, eps);
        conv2 = new Conv2d(be, params, name + ".conv2", g2, false);
        bn2 = new BatchNorm2d(be, params, acts, name + ".bn2", g2.yShape(), false, mom, eps);
        if (downsample) {
            ConvGeometry gd = ConvGeometry.of(n, h, w, cin, planes, 1, stride, 0, 1);
            dsConv = new Conv2d(be, params, name + ".downsample.0", gd, false);
            dsBn = new BatchNorm2d(be, params, acts, name + ".downsample.1", gd.yShape(), false, mom, eps);
            td = acts.act(name + ".downsample.0", gd.yShape());
            ad = acts.saved(name + ".downsample.1", gd.yShape());
        } else {
            if (cin != planes || stride != 1) {
                throw new IllegalArgumentException(name + ": an identity shortcut needs Cin == planes and stride 1,"
                        + " got Cin " + cin + ", planes " + planes + ", stride " + stride);
            }
            dsConv = null;
            dsBn = null;
            td = null;
            ad = null;
        }
        relu = new Relu(be, name + ".relu", g2.yShape());
        t1 = acts.act(name + ".conv1", g1.yShape());
        a1 = acts.act(name + ".bn1", g1.yShape());
        t2 = acts.act(name + ".conv2", g2.yShape());
        add = acts.gradOnly(name + ".add", g2.yShape());
        out = acts.act(name, g2.yShape());
        for (Act a : td == null ? List.of(t1, a1, t2, add) : List.of(t1, a1, t2, td, add)) {
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
        return dsConv == null ? List.of(conv1, conv2) : List.of(conv1, conv2, dsConv);
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
        Tensor shortcut = x;
        if (dsConv != null) {
            dsConv.forward(x, td.value());
            dsBn.forward(td.value(), ad.value(), training);
            shortcut = ad.value();
        }
        bn2.forwardAddRelu(t2.value(), shortcut, out.value(), training);
    }

    @Override
    public void backward(Tensor x, Tensor dx, boolean accumulateDx) {
        // As Bottleneck's: internal gradients assigned by their only writer, the shortcut into dx first
        // (with an identity shortcut and dx assigned, dx itself holds the sum's gradient).
        Tensor sumGrad = dsConv == null && !accumulateDx ? dx : add.grad();
        relu.backward(out.value(), out.grad(), sumGrad, false);
        if (dsConv != null) {
            dsBn.backward(td.value(), null, sumGrad, td.grad(), false);
            dsConv.backward(x, td.grad(), dx, accumulateDx);
        } else if (accumulateDx) {
            be.axpy(1f, sumGrad, dx);
        }
        bn2.backward(t2.value(), null, sumGrad, t2.grad(), false);
        conv2.backward(a1.value(), t2.grad(), a1.grad(), false);
        bn1.backward(t1.value(), a1.value(), a1.grad(), t1.grad(), false);
        conv1.backward(x, t1.grad(), dx, true);
    }

    @Override
    public void initialize(Init init, FanMode mode, boolean zeroInitResidual) {
        conv1.initialize(init, mode);
        bn1.initialize(init, 1f);
        conv2.initialize(init, mode);
        bn2.initialize(init, zeroInitResidual ? 0f : 1f);
        if (dsConv != null) {
            dsConv.initialize(init, mode);
            dsBn.initialize(init, 1f);
        }
    }
}
