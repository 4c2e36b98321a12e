package org.densecl.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.io.LoadReport;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.BatchCounter;
import org.densecl.nn.Param;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A whole reduced-width ResNet-50 against PyTorch 1.13 (fixture resnet50_w16, written by
 * src/test/python/make_resnet_fixture.py): torchvision's layout at width 4 (1/16), 1 input channel, fc to
 * 5 classes, x (2, 1, 48, 48). The weights are loaded through {@link StateDict} from the fixture itself,
 * so the state-dict keys and the OIHW-to-KRSC conversion are tested too. Checked: eval-mode logits (with
 * running statistics that are not the batch's), then in train mode the logits, the mean cross-entropy over
 * the 2 samples, every parameter gradient (161 tensors), the input gradient, the BN running statistics
 * after the forward and num_batches_tracked (3 in the file, 4 after).
 *
 * <p>The reference was computed in float64 from float32-exact inputs and stored as F32 (6e-8 relative).
 * Tolerances, |a - b| <= atol + rtol * |ref|, atol scaled by the tensor's largest |ref| value:
 * <ul>
 * <li>F32 (ref and cpu). Each layer adds ~1e-7 relative rounding; BN backward subtracts the means of dy
 *     and dy * xhat, which cancels most of the signal, so gradient errors reach a few 1e-4 of a tensor's
 *     largest gradient (measured: 3.8e-4 ref, 5.1e-4 cpu, worst in layer1; the input gradient 1.1e-4 and
 *     1.5e-4). Gradients: atol 2e-3 * scale, rtol 2e-3. Train-mode logits go through layer4's BNs, which
 *     normalise over only 8 values per channel and so amplify forward rounding: measured 3e-5 (ref) and
 *     5e-5 (cpu) of the largest logit, hence 5e-4 for logits and loss. Eval logits (1e-5 measured) and
 *     running statistics (1.2e-5) keep 1e-4. A wrong index, a missing term or a transposed weight is off
 *     by O(1) of the scale; moving one weight of layer3.2.conv2 by 0.01 already fails every case.
 * <li>F64 (ref). Only the F32 storage of the reference remains: 2^-24 ~ 6e-8 of each value (measured
 *     at most 5.9e-8 of a tensor's scale): atol 1e-6 * scale, rtol 1e-6.
 * </ul>
 */
class ResNetParityTest {
    private static final String FIXTURE = "resnet50_w16";
    private static final int N = 2, H = 48, W = 48, CLASSES = 5, COUNTER_BEFORE = 3;
    /** Fixture entries that are not state-dict keys. */
    private static final List<String> NON_WEIGHTS = List.of("input", "labels", "logits", "loss", "eval.logits");

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of("ref", DType.F64), Arguments.of("ref", DType.F32),
                Arguments.of("cpu", DType.F32));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void forwardAndBackwardMatchPyTorch(String backend, DType dtype) {
        boolean f64 = dtype == DType.F64;
        double fwdTol = f64 ? 1e-6 : 1e-4, logitsTol = f64 ? 1e-6 : 5e-4, gradTol = f64 ? 1e-6 : 2e-3;
        ResNetConfig cfg = ResNetConfig.resnet(50).withWidthMultiplier(1.0 / 16).withInChannels(1)
                .withClassifier(CLASSES);
        try (Fixture fx = Fixture.open(FIXTURE); Backend be = Backends.open(backend, 2, "vector")) {
            assertEquals(cfg.width(), fx.metaInt("width"), "fixture width vs ResNetConfig width");
            ResNet net = ResNet.create(be, cfg, dtype, N, H, W);
            WorstCheck worst = new WorstCheck(fx, be);

            // Strict in effect: nothing missing, and the only extra entries are the fixture's results.
            LoadReport report = StateDict.load(fixturePath(), net.parameters(), be, false);
            assertTrue(report.missing().isEmpty(), "keys missing from the fixture: " + report);
            for (String u : report.unexpected()) {
                assertTrue(NON_WEIGHTS.contains(u) || u.startsWith("grad.") || u.startsWith("after."),
                        "unexpected fixture key " + u + ": " + report);
            }
            assertEquals(net.parameters().keys().size(), report.loaded().size(), "loaded keys: " + report);
            assertTrue(report.stemSummed().isEmpty(), "1-channel stem must load as is: " + report);

            Tensor x = fx.load(be, dtype, "input");           // (N, H, W, 1)
            Tensor labels = fx.load(be, DType.I32, "labels"); // (N)
            Tensor probs = be.allocate(dtype, Shape.of(N, CLASSES)); // (N, CLASSES)
            Tensor loss = be.allocate(dtype, Shape.of(1));           // (1)
            Tensor dx = be.allocate(dtype, net.inputShape());        // (N, H, W, 1), backward adds into it
            zero(dx);

            net.forward(x, false);
            worst.check("eval logits " + net.logits().shape(), "eval.logits", net.logits().value(), fwdTol);

            net.parameters().zeroGrads();
            net.activations().zeroGrads();
            net.forward(x, true);
            be.softmaxCrossEntropyForward(net.logits().value(), labels, -1, false, probs, loss);
            be.softmaxCrossEntropyBackward(probs, labels, -1, false, 1f, net.logits().grad());
            net.backward(dx);

            worst.check("train logits " + net.logits().shape(), "logits", net.logits().value(), logitsTol);
            double wantLoss = fx.expected(be, "loss").get(0);
            TensorAssert.close(FIXTURE + ": cross-entropy loss (" + backend + ", " + dtype + ")",
                    new double[] {wantLoss}, new double[] {loss.get(0)}, logitsTol * Math.abs(wantLoss), logitsTol);
            worst.check("input gradient " + dx.shape(), "grad.input", dx, gradTol);

            int grads = 0, stats = 0;
            for (Param p : net.parameters().all()) {
                if (p.trainable()) {
                    worst.check("grad " + p.name() + " " + p.shape(), "grad." + p.name(), p.grad(), gradTol);
                    grads++;
                } else {
                    worst.check("running statistic " + p.name() + " " + p.shape(), "after." + p.name(),
                            p.value(), fwdTol);
                    stats++;
                }
            }
            assertEquals(161, grads, "ResNet-50 with fc has 161 trainable tensors");
            assertEquals(106, stats, "53 BNs with running mean and variance");
            for (BatchCounter c : net.parameters().counters()) {
                assertEquals(COUNTER_BEFORE + 1, c.get(), c.name() + " after one training forward");
            }
            System.out.println(String.format(Locale.ROOT, "%s %s %s: worst |diff| / tolerance %.3g at %s",
                    FIXTURE, backend, dtype, worst.ratio, worst.where));
        }
    }

    private static void zero(Tensor t) {
        for (long i = 0; i < t.numel(); i++) {
            t.set(i, 0);
        }
    }

    private static Path fixturePath() {
        try {
            return Path.of(ResNetParityTest.class.getResource("/fixtures/" + FIXTURE + ".safetensors").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
