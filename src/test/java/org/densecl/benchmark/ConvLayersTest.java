package org.densecl.benchmark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.CpuTuning;
import org.densecl.backend.ref.RefBackend;
import org.densecl.benchmark.ConvLayers.Layer;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.junit.jupiter.api.Test;

/** The conv-layer listing behind {@code bench conv-layers}: distinct layers and calls per step, and the timer. */
class ConvLayersTest {

    private static List<Layer> resnet50(int forwardsPerStep) {
        try (Backend be = new RefBackend()) {
            // declared only: nothing is allocated
            ResNet net = new ResNet(be, ResNetConfig.resnet(50), new Parameters(DType.F32), new Activations(DType.F32),
                    "", 8, 224, 224);
            assertEquals(53, net.convs().size(), "ResNet-50 convolutions");
            return ConvLayers.of(net.convs(), forwardsPerStep);
        }
    }

    @Test
    void resNet50HasTwentyThreeDistinctLayersAndFiftyThreeConvolutions() {
        List<Layer> layers = resnet50(1);
        assertEquals(23, layers.size(), "distinct ResNet-50 convolutions at one batch and input size");
        int[] total = new int[3];
        for (Layer l : layers) {
            for (int p = 0; p < 3; p++) {
                total[p] += l.calls(p);
            }
        }
        // every conv runs forward and filter gradient once; the stem computes no gradient for the image
        assertArrayEquals(new int[] {53, 52, 53}, total, "calls per step: forward, data, filter");
        assertEquals("7x7/2 3->64 at 224x224", layers.get(0).name(), "the stem comes first");
        assertEquals(new Layer(layers.get(0).g(), 1, 0, 1), layers.get(0), "the stem's calls");
        // conv3 of layer1's three blocks and block 0's projection: the same 1x1 64->256 at 56x56
        Layer expand = layers.stream().filter(l -> l.name().equals("1x1/1 64->256 at 56x56")).findFirst().orElseThrow();
        assertEquals(new Layer(expand.g(), 4, 4, 4), expand, "1x1 64->256 at 56x56: three conv3s and a projection");
        assertEquals(8, expand.g().n(), "the batch is the network's");
    }

    @Test
    void denseClStepRunsEachForwardTwice() {
        List<Layer> once = resnet50(1), twice = resnet50(2);
        for (int i = 0; i < once.size(); i++) {
            Layer a = once.get(i);
            assertEquals(new Layer(a.g(), 2 * a.forward(), a.data(), a.filter()), twice.get(i),
                    a.name() + ": query and key forwards");
        }
        assertThrows(IllegalArgumentException.class, () -> resnet50(0));
    }

    @Test
    void timerTimesTheCalledPassesOnly() {
        Layer layer = new Layer(ConvGeometry.of(1, 9, 9, 16, 24, 3, 1, 1, 1), 2, 0, 1);
        try (Backend be = Backends.open("cpu", 1, CpuTuning.DEFAULT)) {
            double[] s = ConvLayers.time(be, layer, 1, 2);
            assertTrue(s[0] > 0 && Double.isFinite(s[0]), "forward seconds: " + Arrays.toString(s));
            assertTrue(Double.isNaN(s[1]), "the data gradient is never called, so not timed: " + Arrays.toString(s));
            assertTrue(s[2] > 0 && Double.isFinite(s[2]), "filter seconds: " + Arrays.toString(s));
        }
    }

    @Test
    void pytorchSpecListsTheGeometry() {
        Layer l = new Layer(ConvGeometry.of(8, 56, 56, 128, 128, 3, 2, 1, 1), 2, 1, 1);
        assertEquals("8,56,56,128,128,3,3,2,1,1,111", ConvLayers.pytorchSpec(l));
        Layer stem = new Layer(ConvGeometry.of(8, 224, 224, 3, 64, 7, 2, 3, 1), 1, 0, 1);
        assertEquals("8,224,224,3,64,7,7,2,3,1,101", ConvLayers.pytorchSpec(stem), "the step never runs its data gradient");
        Layer oblong = new Layer(new ConvGeometry(1, 8, 8, 4, 4, 3, 3, 1, 2, 1, 1, 1, 1), 1, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> ConvLayers.pytorchSpec(oblong));
    }
}
