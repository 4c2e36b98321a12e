package org.densecl.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.Activations;
import org.densecl.nn.Conv2d;
import org.densecl.nn.FanMode;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Architecture checks that need no memory: the networks are only declared (parameters and activations
 * are planned, never allocated), so a ResNet-101 costs nothing. Expected counts are torchvision's
 * {@code sum(p.numel() for p in resnetXX().parameters())}, the numbers its model zoo documents.
 */
class ResNetStructureTest {
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    private ResNet declare(ResNetConfig cfg, int batch, int h, int w) {
        return new ResNet(be, cfg, new Parameters(DType.F32), new Activations(DType.F32), "", batch, h, w);
    }

    @Test
    void parameterCountsMatchTorchvision() {
        assertEquals(23_508_032L, declare(ResNetConfig.resnet(50), 1, 224, 224).parameters().trainableCount(),
                "ResNet-50 backbone (no fc)");
        assertEquals(25_557_032L, declare(ResNetConfig.resnet(50).withClassifier(1000), 1, 224, 224)
                .parameters().trainableCount(), "ResNet-50 with a 1000-class fc");
        assertEquals(11_689_512L, declare(ResNetConfig.resnet(18).withClassifier(1000), 1, 224, 224)
                .parameters().trainableCount(), "ResNet-18 with fc");
        assertEquals(21_797_672L, declare(ResNetConfig.resnet(34).withClassifier(1000), 1, 224, 224)
                .parameters().trainableCount(), "ResNet-34 with fc");
        assertEquals(44_549_160L, declare(ResNetConfig.resnet(101).withClassifier(1000), 1, 224, 224)
                .parameters().trainableCount(), "ResNet-101 with fc");
        // Dilation changes no parameter; a grayscale stem removes 2 * 64*7*7 weights.
        assertEquals(23_508_032L, declare(ResNetConfig.resnet(50).withOutputStride(8), 1, 64, 64)
                .parameters().trainableCount(), "ResNet-50-D8");
        assertEquals(23_508_032L - 2 * 64 * 49, declare(ResNetConfig.resnet(50).withInChannels(1), 1, 64, 64)
                .parameters().trainableCount(), "ResNet-50, 1 input channel");
    }

    @Test
    void bufferCountsAndStateDictKeys() {
        Parameters p = declare(ResNetConfig.resnet(50).withClassifier(1000), 1, 224, 224).parameters();
        // 53 BNs; torchvision's state_dict has 5 entries per BN, 53 conv weights and fc weight + bias.
        assertEquals(53 * 5 + 53 + 2, p.keys().size(), "state_dict key count of resnet50");
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn1.weight"), p.keys().subList(0, 8),
                "torchvision's state_dict order at the start");
        assertEquals(List.of("layer4.2.bn3.num_batches_tracked", "fc.weight", "fc.bias"),
                p.keys().subList(p.keys().size() - 3, p.keys().size()), "and at the end");
        int i = p.keys().indexOf("layer1.0.bn3.num_batches_tracked");
        assertEquals("layer1.0.downsample.0.weight", p.keys().get(i + 1), "downsample follows bn3 in torchvision");
        // running_mean + running_var of every BN: twice the BN parameter count.
        long bnParams = p.trainable().stream().filter(q -> q.role() == Param.Role.NORM).mapToLong(Param::numel).sum();
        assertEquals(bnParams, p.bufferCount(), "running stats are C + C per BN, like gamma and beta");
        assertEquals(53, p.counters().size(), "one num_batches_tracked per BN");
    }

    @Test
    void torchvisionNamesAndKrscShapes() {
        Parameters p = declare(ResNetConfig.resnet(50).withClassifier(1000), 1, 224, 224).parameters();
        expect(p, "layer3.4.conv2.weight", Shape.of(256, 3, 3, 256), Param.Role.WEIGHT);
        expect(p, "layer1.0.downsample.0.weight", Shape.of(256, 1, 1, 64), Param.Role.WEIGHT);
        expect(p, "layer1.0.downsample.1.running_var", Shape.of(256), Param.Role.BUFFER);
        expect(p, "layer2.0.conv1.weight", Shape.of(128, 1, 1, 256), Param.Role.WEIGHT);
        expect(p, "layer4.2.bn3.weight", Shape.of(2048), Param.Role.NORM);
        expect(p, "conv1.weight", Shape.of(64, 7, 7, 3), Param.Role.WEIGHT);
        expect(p, "bn1.running_mean", Shape.of(64), Param.Role.BUFFER);
        expect(p, "fc.weight", Shape.of(1000, 2048), Param.Role.WEIGHT);
        expect(p, "fc.bias", Shape.of(1000), Param.Role.BIAS);
        assertFalse(p.contains("layer1.1.downsample.0.weight"), "only the first block of a stage projects");
        assertFalse(p.contains("conv1.bias"), "ResNet convs have no bias");

        Parameters r18 = declare(ResNetConfig.resnet(18), 1, 224, 224).parameters();
        assertFalse(r18.contains("layer1.0.downsample.0.weight"), "ResNet-18 layer1 keeps 64 channels: identity");
        expect(r18, "layer2.0.downsample.0.weight", Shape.of(128, 1, 1, 64), Param.Role.WEIGHT);
        assertFalse(r18.contains("layer1.0.conv3.weight"), "BasicBlocks have two convs");
    }

    private static void expect(Parameters p, String name, Shape shape, Param.Role role) {
        Param q = p.get(name);
        assertEquals(shape, q.shape(), name + " shape");
        assertEquals(role, q.role(), name + " role");
    }

    @Test
    void featureShapesAtOutputStride32() {
        ResNet net = declare(ResNetConfig.resnet(50), 2, 224, 224);
        assertEquals(Shape.of(2, 56, 56, 256), net.stage(0).shape(), "C2");
        assertEquals(Shape.of(2, 28, 28, 512), net.stage(1).shape(), "C3");
        assertEquals(Shape.of(2, 14, 14, 1024), net.stage(2).shape(), "C4");
        assertEquals(Shape.of(2, 7, 7, 2048), net.c5().shape(), "C5");
        assertThrows(IllegalStateException.class, net::logits, "a backbone has no logits");
    }

    @Test
    void outputStride8IsR50D8() {
        ResNet net = declare(ResNetConfig.resnet(50).withOutputStride(8), 1, 512, 512);
        assertEquals(Shape.of(1, 128, 128, 256), net.stage(0).shape(), "C2 (the reference's 512 crop)");
        assertEquals(Shape.of(1, 64, 64, 512), net.stage(1).shape(), "C3");
        assertEquals(Shape.of(1, 64, 64, 1024), net.stage(2).shape(), "C4");
        assertEquals(Shape.of(1, 64, 64, 2048), net.c5().shape(), "C5 at output stride 8");
        int[][] dilations = {{1, 1, 1}, {1, 1, 1, 1}, {1, 2, 2, 2, 2, 2}, {2, 4, 4}};
        for (int s = 0; s < 4; s++) {
            for (int b = 0; b < dilations[s].length; b++) {
                assertEquals(dilations[s][b], net.block(s, b).dilation(), "dilation of layer" + (s + 1) + "." + b);
                int stride = b == 0 && s == 1 ? 2 : 1;
                assertEquals(stride, net.block(s, b).stride(), "stride of layer" + (s + 1) + "." + b);
                assertEquals(b == 0, net.block(s, b).hasDownsample(), "projection of layer" + (s + 1) + "." + b);
            }
        }
        ResNet os16 = declare(ResNetConfig.resnet(50).withOutputStride(16), 1, 64, 64);
        assertEquals(Shape.of(1, 4, 4, 2048), os16.c5().shape(), "C5 at output stride 16");
        assertEquals(2, os16.block(2, 0).stride(), "layer3 keeps its stride at output stride 16");
        assertEquals(2, os16.block(3, 1).dilation(), "layer4 dilates by 2 at output stride 16");
    }

    /**
     * The geometry the convolutions really run with: v1.5 puts the stride on the 3x3 (conv1 of a
     * Bottleneck has stride 1), and in R50-D8 each dilated 3x3 pads by its dilation.
     */
    @Test
    void convolutionGeometries() {
        ResNet net = declare(ResNetConfig.resnet(50).withOutputStride(8), 1, 64, 64);
        List<Conv2d> b20 = net.block(1, 0).convs();
        assertEquals(List.of(1, 2, 1, 2), b20.stream().map(c -> c.geometry().strideH()).toList(),
                "layer2.0 conv1, conv2, conv3, downsample.0 strides (v1.5)");
        List<Conv2d> b31 = net.block(2, 1).convs();
        assertEquals(3, b31.size(), "layer3.1 has no projection");
        ConvGeometry g = b31.get(1).geometry();
        assertEquals(List.of(3, 1, 2, 2), List.of(g.r(), g.strideH(), g.dilationH(), g.padH()),
                "layer3.1.conv2: 3x3, stride 1, dilation 2, pad 2");
        ConvGeometry g40 = net.block(3, 0).convs().get(1).geometry();
        assertEquals(List.of(1, 2, 2), List.of(g40.strideH(), g40.dilationH(), g40.padH()), "layer4.0.conv2");
        ConvGeometry g41 = net.block(3, 1).convs().get(1).geometry();
        assertEquals(List.of(1, 4, 4), List.of(g41.strideH(), g41.dilationH(), g41.padH()), "layer4.1.conv2");
        assertEquals(1, net.block(3, 0).convs().get(3).geometry().strideH(), "layer4 projection has stride 1");

        ResNet r18 = declare(ResNetConfig.resnet(18).withOutputStride(8), 1, 64, 64);
        ConvGeometry c1 = r18.block(3, 1).convs().get(0).geometry(), c2 = r18.block(3, 1).convs().get(1).geometry();
        assertEquals(List.of(4, 4, 1, 1), List.of(c1.dilationH(), c1.padH(), c2.dilationH(), c2.padH()),
                "a dilated BasicBlock dilates conv1 only (mmsegmentation)");
    }

    /**
     * Multiply-adds of ResNet-50 at 224x224: 4,089,184,256 with the fc (2048*1000 of them), torchvision's
     * documented 4.09 G for v1.5. v1 (stride on the first 1x1) would give 3.858 G, so the count also pins
     * where the stride sits.
     */
    @Test
    void resnet50MultiplyAddsAt224() {
        ResNet net = declare(ResNetConfig.resnet(50).withClassifier(1000), 1, 224, 224);
        double macs = net.convs().stream().mapToDouble(c -> c.geometry().flops() / 2).sum() + 2048 * 1000;
        assertEquals(53, net.convs().size(), "53 convolutions");
        assertEquals(4_089_184_256.0, macs, 0.5, "ResNet-50 multiply-adds");
    }

    @Test
    void widthMultiplierAndGrayscale() {
        ResNetConfig cfg = ResNetConfig.resnet(50).withWidthMultiplier(1.0 / 16).withInChannels(1);
        assertEquals(4, cfg.width());
        ResNet net = declare(cfg, 1, 64, 64);
        assertEquals(Shape.of(4, 7, 7, 1), net.parameters().get("conv1.weight").shape());
        assertEquals(Shape.of(1, 2, 2, 128), net.c5().shape(), "C5 has 4 * 8 * 4 channels");
    }

    @Test
    void configRejectsBadOptions() {
        assertThrows(IllegalArgumentException.class,
                () -> new ResNetConfig(true, List.of(1, 1, 1), 3, 64, 32, 0, false, FanMode.FAN_IN, 0.1f, 1e-5f),
                "three stages");
        assertThrows(IllegalArgumentException.class, () -> ResNetConfig.resnet(50).withOutputStride(4));
        assertThrows(IllegalArgumentException.class, () -> ResNetConfig.resnet(26));
        assertThrows(IllegalArgumentException.class, () -> ResNetConfig.resnet(50).withWidthMultiplier(0));
    }
}
