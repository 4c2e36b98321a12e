package org.densecl.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.nn.BatchCounter;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.seg.FinetuneCheckpoint;
import org.densecl.seg.SegmentationConfig;
import org.densecl.seg.SegmentationModel;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A whole FCN R50-D8 training step's forward and backward, and its inference, against the PyTorch twin
 * bench/pytorch/fcn_model.py (fixture fcn_r50d8_tiny, written by src/test/python/make_fcn_fixture.py):
 * fcnR50D8 at width 1/32 with blocks (1, 1, 2, 2) (dilations 1, 2 and 4 all present), 1 input channel,
 * heads of 16 (decode, on C5) and 8 (auxiliary, on C4) channels, 4 classes, dropout 0 (PyTorch's and our
 * Dropout2d masks come from different generators), x (2, 1, 36, 44), labels with ~20% ignored pixels.
 *
 * <p>The weights are loaded from the fixture under mmseg's whole-model keys with
 * {@link FinetuneCheckpoint#loadModel}, the path a file from mmsegmentation takes, and
 * {@link SegmentationModel#stateDictKeys()} must equal the PyTorch state_dict's keys in order. Checked:
 * eval-mode {@link SegmentationModel#predict} logits (running statistics that are not the batch's), then
 * from {@link SegmentationModel#lossAndGradients}: both heads' train-mode logits at 1/8, the decode,
 * auxiliary and total losses, the gradient of every parameter (backbone and heads), every BN's running
 * statistics after the step and num_batches_tracked (3 in the file, 4 after).
 *
 * <p>Tolerances, |a - b| <= atol + rtol * |ref| with atol = tol * (the tensor's largest |ref|), rtol = tol:
 * <ul>
 * <li>ref F64: the fixture's inputs are float32 numbers and its results float64 computed from them, so only
 *     float64 rounding in other summation orders differs, ~1e-16 per operation, grown by the BN backward's
 *     cancellation (it subtracts the means of dy and dy * xhat) through ~25 layers: measured at most
 *     3.2e-14 of a tensor's scale for the gradients (layer1, behind every BN backward), 6e-15 for logits
 *     and 2e-15 relative for the losses. tol 1e-10 leaves over three orders of magnitude of room and still
 *     fails on small real errors (tried: one weight of the auxiliary conv_seg moved by 1e-6; the aux weight
 *     one float ulp above 0.4f, so 0.4 taken as a double instead of 0.4f would fail too; align_corners true).
 * <li>cpu F32: float32 rounding, ~6e-8 per operation, grown the same way: measured at most 4.2e-5 of a
 *     tensor's scale for the gradients (layer1.0.bn2), 7.3e-6 for logits, 4e-7 for the running statistics
 *     and 7e-8 relative for the losses. tol 1e-3 for gradients and 1e-4 for the forward values (over 10x
 *     room): this case catches what the fast backend gets structurally wrong (align_corners true fails it
 *     on 99.4% of the eval logits), the F64 one the fine print.
 * </ul>
 */
class FcnParityTest {
    private static final String FIXTURE = "fcn_r50d8_tiny";
    private static final int N = 2, H = 36, W = 44, CLASSES = 4, COUNTER_BEFORE = 3;

    /** The fixture's model: fcnR50D8 at width 1/32, blocks (1, 1, 2, 2), gray input, no dropout. */
    static SegmentationConfig config() {
        SegmentationConfig c = SegmentationConfig.fcnR50D8().withWidthMultiplier(1.0 / 32);
        return c.withBackbone(c.backbone().withBlocks(1, 1, 2, 2).withInChannels(1)).withDropout(0f);
    }

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of("ref", DType.F64), Arguments.of("cpu", DType.F32));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void lossGradientsAndPredictionMatchPyTorch(String backend, DType dtype) {
        boolean f64 = dtype == DType.F64;
        double fwdTol = f64 ? 1e-10 : 1e-4, gradTol = f64 ? 1e-10 : 1e-3;
        SegmentationConfig cfg = config();
        try (Fixture fx = Fixture.open(FIXTURE); Backend be = Backends.open(backend, 2, "vector")) {
            assertEquals(CLASSES, fx.metaInt("classes"), "fixture classes");
            assertEquals(cfg.auxWeight(), fx.metaFloat("aux_weight"), "fixture aux weight vs config (0.4f)");
            assertEquals(cfg.alignCorners(), fx.metaBool("align_corners"), "fixture align_corners vs config");
            assertEquals(0f, fx.metaFloat("dropout"), "the fixture has no dropout");
            SegmentationModel m = new SegmentationModel(be, cfg, dtype, N, H, W, CLASSES);
            m.initialize(1); // every parameter and buffer is then overwritten from the fixture
            assertEquals(List.of(fx.meta("state_dict_keys").split(",")), m.stateDictKeys(),
                    "SegmentationModel.stateDictKeys() vs the PyTorch twin's state_dict (mmseg's names and order)");
            FinetuneCheckpoint.loadModel(fx.path(), m.backbone().parameters(), m.headParameters(), be);
            WorstCheck worst = new WorstCheck(fx, be);

            Tensor images = fx.load(be, dtype, "input");         // (N, H, W, 1)
            Tensor labels = fx.load(be, DType.I32, "labels");    // (N, H, W)
            worst.check("eval logits (predict)", "eval.logits", m.predict(images), fwdTol);

            SegmentationModel.Losses l = m.lossAndGradients(images, labels, 0);
            worst.check("train decode logits", "decode.logits", m.decodeHead().logits().value(), fwdTol);
            worst.check("train auxiliary logits", "aux.logits", m.auxiliaryHead().logits().value(), fwdTol);
            checkLoss(fx, be, "loss.decode", l.decode(), fwdTol, backend, dtype);
            checkLoss(fx, be, "loss.aux", l.aux(), fwdTol, backend, dtype);
            checkLoss(fx, be, "loss.total", l.total(), fwdTol, backend, dtype);

            int grads = compare(worst, "backbone.", m.backbone().parameters(), gradTol, fwdTol)
                    + compare(worst, "", m.headParameters(), gradTol, fwdTol);
            long fixtureGrads = fx.names().stream().filter(k -> k.startsWith("grad.")).count();
            assertEquals(fixtureGrads, grads, "every parameter of the PyTorch twin has its gradient checked");
            for (Parameters p : List.of(m.backbone().parameters(), m.headParameters())) {
                for (BatchCounter c : p.counters()) {
                    assertEquals(COUNTER_BEFORE + 1, c.get(), c.name() + " after one training forward");
                }
            }
            System.out.println(String.format(Locale.ROOT, "%s %s %s: %d gradients; worst |diff| / tolerance %.3g"
                    + " at %s", FIXTURE, backend, dtype, grads, worst.ratio, worst.where));
        }
    }

    /**
     * Compares every trainable parameter's gradient with grad.{prefix}{name} and every buffer (BN running
     * statistic) with after.{prefix}{name}; returns the number of gradients compared.
     */
    private static int compare(WorstCheck worst, String prefix, Parameters params, double gradTol, double fwdTol) {
        int grads = 0;
        for (Param p : params.all()) {
            String key = prefix + p.name();
            if (p.trainable()) {
                worst.check("gradient " + p.shape(), "grad." + key, p.grad(), gradTol);
                grads++;
            } else {
                worst.check("running statistic " + p.shape(), "after." + key, p.value(), fwdTol);
            }
        }
        return grads;
    }

    private static void checkLoss(Fixture fx, Backend be, String tensor, double actual, double tol, String backend,
                                  DType dtype) {
        double want = fx.expected(be, tensor).get(0);
        TensorAssert.close(FIXTURE + ": " + tensor + " (" + backend + ", " + dtype + ")", new double[] {want},
                new double[] {actual}, tol * Math.abs(want), tol);
    }
}
