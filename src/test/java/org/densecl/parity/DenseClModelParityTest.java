package org.densecl.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.densecl.DenseClModel;
import org.densecl.densecl.DenseClOptions;
import org.densecl.io.LoadReport;
import org.densecl.io.SafeTensors;
import org.densecl.io.StateDict;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.api.Test;

/**
 * A whole DenseCL loss and backward against the PyTorch twin (bench/pytorch/densecl_reference.py) on the
 * same weights, views and queues: fixture densecl_model.safetensors from
 * src/test/python/make_densecl_model_fixture.py (ResNet-50 layout, one block per stage at 1/16 width, one
 * gray channel, 64 x 64 views, N 4, neck hidden 16, D 8, K 16, key = query, one BN group). Both weighted loss
 * terms and the gradient of every trainable query parameter (backbone and neck) are compared.
 *
 * <p>Ref backend in F64: the fixture holds float32 inputs and float64 results computed from them, so the
 * only differences are float64 rounding in different summation orders. The losses are O(1) and the
 * largest gradients O(1); atol 1e-10 with rtol 1e-8 leaves three orders of magnitude of room over that
 * rounding, while a wrong term (a missing 1 / S2, the dense gradient dropped, a transposed weight) moves
 * values by far more than 1e-8.
 */
class DenseClModelParityTest {
    private static final Path FIXTURE = Path.of("src/test/resources/fixtures/densecl_model.safetensors");

    @Test
    void lossAndEveryQueryGradientMatchPyTorch() {
        try (Backend be = new RefBackend(); SafeTensors sf = SafeTensors.open(FIXTURE)) {
            int n = 4, size = 64;
            ResNetConfig cfg = ResNetConfig.resnet(50).withBlocks(1, 1, 1, 1).withWidthMultiplier(1.0 / 16)
                    .withInChannels(1);
            DenseClOptions opt = new DenseClOptions(16, 8, 16, 0.2f, 0.5f, 1f, 0.9f, 1e-4f, 1);
            DenseClModel m = new DenseClModel(be, cfg, DType.F64, n, size, size, opt);
            m.initialize(3); // then every weight and queue row is overwritten from the fixture
            load(sf, "backbone.", m.backboneQuery().parameters(), be);
            load(sf, "backbone.", m.backboneKey().parameters(), be);
            load(sf, "neck.", m.neckQueryParameters(), be);
            load(sf, "neck.", m.neckKeyParameters(), be);
            StateDict.readInto(sf, "queue_rows", m.queue().keys(), be);
            StateDict.readInto(sf, "queue2_rows", m.queue2().keys(), be);
            Tensor imQ = be.allocate(DType.F64, Shape.of(n, size, size, 1)); // (N, H, W, 1)
            Tensor imK = be.allocate(DType.F64, Shape.of(n, size, size, 1)); // (N, H, W, 1)
            StateDict.readInto(sf, "im_q", imQ, be);
            StateDict.readInto(sf, "im_k", imK, be);

            DenseClModel.Losses l = m.lossAndGradients(imQ, imK);
            double global = sf.doubles("loss_global")[0], dense = sf.doubles("loss_dense")[0];
            assertEquals(global, l.global(), 1e-10 + 1e-8 * Math.abs(global), "DenseCL global loss vs PyTorch");
            assertEquals(dense, l.dense(), 1e-10 + 1e-8 * Math.abs(dense), "DenseCL dense loss vs PyTorch");

            int checked = compareGradients(sf, "grad.backbone.", m.backboneQuery().parameters(), be)
                    + compareGradients(sf, "grad.neck.", m.neckQueryParameters(), be);
            assertEquals(m.backboneQuery().parameters().trainable().size() + m.neckQueryParameters().trainable().size(),
                    checked, "every trainable query parameter has a PyTorch gradient in the fixture");
        }
    }

    /** Loads the fixture's {@code prefix} entries into {@code params}; every parameter must be there. */
    private static void load(SafeTensors sf, String prefix, Parameters params, Backend be) {
        LoadReport r = StateDict.load(FIXTURE, params, be, false, List.of(prefix), false);
        assertTrue(r.missing().isEmpty(), "fixture lacks " + prefix + " entries " + r.missing());
    }

    private static int compareGradients(SafeTensors sf, String prefix, Parameters params, Backend be) {
        int count = 0;
        double maxAbs = 0;
        for (Param p : params.trainable()) {
            Tensor want = be.allocate(DType.F64, p.shape());
            StateDict.readInto(sf, prefix + p.name(), want, be);
            TensorAssert.close("DenseCL d loss / d " + p.name() + " " + p.shape() + " vs PyTorch", want, p.grad(),
                    1e-10, 1e-8);
            for (long i = 0; i < want.numel(); i++) {
                maxAbs = Math.max(maxAbs, Math.abs(want.get(i)));
            }
            count++;
        }
        assertTrue(maxAbs > 1e-3, prefix + " gradients are all ~0 (" + maxAbs + "): the comparison would prove nothing");
        return count;
    }
}
