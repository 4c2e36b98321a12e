package org.densecl.nn;

import org.densecl.tensor.Shape;

/**
 * Which fan Kaiming initialisation divides by (PyTorch's {@code mode} of {@code kaiming_normal_}).
 * FAN_IN = C*R*S keeps the forward activations' variance constant through ReLU layers; FAN_OUT = K*R*S
 * keeps the backward gradients' variance constant. torchvision's ResNet and mmcv's KaimingInit use
 * FAN_OUT; OpenSelfSup's DenseCL backbone uses FAN_IN.
 */
public enum FanMode {
    FAN_IN,
    FAN_OUT;

    /**
     * The fan of a weight: conv filters are KRSC (K, R, S, C), linear weights (O, I) as in PyTorch.
     * For KRSC, fan_in = R*S*C and fan_out = K*R*S, exactly PyTorch's values for the OIHW tensor.
     */
    public int of(Shape w) {
        return switch (w.rank()) {
            case 4 -> this == FAN_IN ? w.dim(1) * w.dim(2) * w.dim(3) : w.dim(0) * w.dim(1) * w.dim(2);
            case 2 -> this == FAN_IN ? w.dim(1) : w.dim(0);
            default -> throw new IllegalArgumentException("FanMode: no fan for a weight of shape " + w
                    + "; a (K, R, S, C) conv filter or an (O, I) linear weight is required");
        };
    }
}
