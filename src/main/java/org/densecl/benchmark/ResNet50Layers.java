package org.densecl.benchmark;

import org.densecl.backend.ConvGeometry;

/** The ResNet-50 convolutions the benchmarks time (ConvBench in bench/, gemm-summary), by name. */
public final class ResNet50Layers {
    private ResNet50Layers() {}

    /**
     * The benchmarked layers of torchvision's ResNet-50 (v1.5) at 224x224 input: the stem, each stage's
     * stride-1 3x3 (conv2 of a non-first block) and its reducing 1x1 (conv1 of a non-first block).
     */
    public static ConvGeometry layer(String name, int n) {
        return switch (name) {
            case "stem_7x7" -> ConvGeometry.of(n, 224, 224, 3, 64, 7, 2, 3, 1);
            case "s1_3x3" -> ConvGeometry.of(n, 56, 56, 64, 64, 3, 1, 1, 1);
            case "s2_3x3" -> ConvGeometry.of(n, 28, 28, 128, 128, 3, 1, 1, 1);
            case "s3_3x3" -> ConvGeometry.of(n, 14, 14, 256, 256, 3, 1, 1, 1);
            case "s4_3x3" -> ConvGeometry.of(n, 7, 7, 512, 512, 3, 1, 1, 1);
            case "s1_1x1" -> ConvGeometry.of(n, 56, 56, 256, 64, 1, 1, 0, 1);
            case "s2_1x1" -> ConvGeometry.of(n, 28, 28, 512, 128, 1, 1, 0, 1);
            case "s3_1x1" -> ConvGeometry.of(n, 14, 14, 1024, 256, 1, 1, 0, 1);
            case "s4_1x1" -> ConvGeometry.of(n, 7, 7, 2048, 512, 1, 1, 0, 1);
            default -> throw new IllegalArgumentException("unknown layer '" + name + "'");
        };
    }
}
