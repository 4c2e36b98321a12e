package org.densecl.backend.ref;

import static org.densecl.backend.ref.RefFixtures.labels;
import static org.densecl.backend.ref.RefFixtures.zeros;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.ConvGeometry;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A wrongly wired op must fail with an IllegalArgumentException whose message alone locates the
 * mistake: the op, the argument and the shapes involved. A representative op of each family.
 */
class RefShapeCheckTest {
    private final RefBackend ref = new RefBackend();

    @AfterEach
    void close() {
        ref.close();
    }

    /** Runs {@code call}, expects IllegalArgumentException, and checks every fragment is in its message. */
    private static void throwsNaming(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should name '" + f + "': " + e.getMessage());
        }
    }

    @Test
    void conv() {
        ConvGeometry g = ConvGeometry.of(2, 5, 5, 3, 4, 3, 1, 1, 1);
        // Filter with C and K swapped (KRSC vs CRSK confusion).
        throwsNaming(() -> ref.conv2dForward(g, zeros(ref, 2, 5, 5, 3), zeros(ref, 3, 3, 3, 4), null,
                zeros(ref, 2, 5, 5, 4)), "conv2dForward", "w", "(3, 3, 3, 4)", "(4, 3, 3, 3)");
        throwsNaming(() -> ref.conv2dForward(g, zeros(ref, 2, 5, 5, 3), zeros(ref, 4, 3, 3, 3), zeros(ref, 3),
                zeros(ref, 2, 5, 5, 4)), "conv2dForward", "bias", "(3)", "(4)");
        throwsNaming(() -> ref.conv2dBackwardData(g, zeros(ref, 2, 5, 5, 4), zeros(ref, 4, 3, 3, 3),
                zeros(ref, 2, 5, 4, 3)), "conv2dBackwardData", "dx", "(2, 5, 4, 3)", "(2, 5, 5, 3)");
        throwsNaming(() -> ref.conv2dBackwardFilter(g, zeros(ref, 2, 5, 5, 3), zeros(ref, 2, 3, 3, 4),
                zeros(ref, 4, 3, 3, 3), null), "conv2dBackwardFilter", "dy", "(2, 3, 3, 4)", "(2, 5, 5, 4)");
    }

    @Test
    void gemm() {
        throwsNaming(() -> ref.gemm(false, true, 3, 4, 5, 1f, zeros(ref, 3, 5), zeros(ref, 5, 5), 0f,
                zeros(ref, 3, 4)), "gemm", "b", "(5, 5)", "20 elements");
        throwsNaming(() -> ref.gemm(false, false, 3, 4, 5, 1f, zeros(ref, 3, 5), zeros(ref, 5, 4), 0f,
                zeros(ref, 4, 3, 2)), "gemm", "c", "(4, 3, 2)", "12 elements");
    }

    @Test
    void elementwiseAndLinear() {
        throwsNaming(() -> ref.add(zeros(ref, 2, 3), zeros(ref, 3, 2), zeros(ref, 2, 3)), "add", "(3, 2)", "(2, 3)");
        throwsNaming(() -> ref.biasAdd(zeros(ref, 4, 6), zeros(ref, 5)), "biasAdd", "(4, 6)", "5");
        throwsNaming(() -> ref.linearForward(zeros(ref, 2, 3), zeros(ref, 4, 5), null, zeros(ref, 2, 4)),
                "linearForward", "w", "(4, 5)", "(4, 3)");
        throwsNaming(() -> ref.dropout2dForward(zeros(ref, 2, 3, 3, 5), 0.1f, 1L, zeros(ref, 5, 2),
                zeros(ref, 2, 3, 3, 5)), "dropout2dForward", "mask", "(5, 2)", "(2, 5)");
        throwsNaming(() -> ref.sgdStep(zeros(ref, 3), zeros(ref, 4), zeros(ref, 3), 0.1f, 0.9f, 0f),
                "sgdStep", "grad", "(4)", "(3)");
    }

    @Test
    void batchNormAndPooling() {
        throwsNaming(() -> ref.batchNormTrainForward(zeros(ref, 2, 3, 3, 5), zeros(ref, 5), zeros(ref, 4), 0.1f,
                1e-5f, zeros(ref, 5), zeros(ref, 5), zeros(ref, 5), zeros(ref, 5), zeros(ref, 2, 3, 3, 5), false),
                "batchNormTrainForward", "beta", "(4)", "(5)");
        var x = zeros(ref, 1, 4, 4, 2);
        throwsNaming(() -> ref.batchNormTrainForward(x, zeros(ref, 2), zeros(ref, 2), 0.1f, 1e-5f, zeros(ref, 2),
                zeros(ref, 2), zeros(ref, 2), zeros(ref, 2), x, false), "batchNormTrainForward", "alias");
        throwsNaming(() -> ref.batchNormBackward(zeros(ref, 4, 3), zeros(ref, 4, 3), zeros(ref, 3), zeros(ref, 3),
                zeros(ref, 3), null, true, zeros(ref, 4, 3), zeros(ref, 3), zeros(ref, 3)),
                "batchNormBackward", "y");
        PoolGeometry g = PoolGeometry.resnetStem(1, 8, 8, 3); // -> (1, 4, 4, 3)
        throwsNaming(() -> ref.maxPoolForward(g, zeros(ref, 1, 8, 8, 3), zeros(ref, 1, 3, 3, 3)),
                "maxPoolForward", "(1, 3, 3, 3)", "(1, 4, 4, 3)");
        throwsNaming(() -> ref.adaptiveAvgPoolForward(zeros(ref, 1, 7, 7, 3), zeros(ref, 1, 3, 3, 4)),
                "adaptiveAvgPoolForward", "(1, 7, 7, 3)", "(1, 3, 3, 4)");
        throwsNaming(() -> ref.globalAvgPoolBackward(zeros(ref, 2, 4), zeros(ref, 2, 3, 3, 5)),
                "globalAvgPoolBackward", "dy", "(2, 4)", "(2, 5)");
    }

    @Test
    void resizeLossesAndDtypes() {
        throwsNaming(() -> ref.resizeBilinearForward(zeros(ref, 2, 4, 4, 3), zeros(ref, 1, 8, 8, 3), false),
                "resizeBilinearForward", "(2, 4, 4, 3)", "(1, 8, 8, 3)");
        throwsNaming(() -> ref.softmaxCrossEntropyForward(zeros(ref, 6, 4), labels(ref, 0, 1, 2, 3, 0), 255, true,
                zeros(ref, 6, 4), zeros(ref, 1)), "softmaxCrossEntropyForward", "labels", "(5)", "6 elements");
        throwsNaming(() -> ref.l2NormalizeForward(zeros(ref, 3, 4), 1e-12f, zeros(ref, 3, 4), zeros(ref, 4)),
                "l2NormalizeForward", "norms", "(4)", "3 elements");
        // Float labels, or an I32 tensor where floats are needed, are wiring mistakes too.
        var floatLabels = ref.allocate(DType.F32, Shape.of(2));
        throwsNaming(() -> ref.softmaxCrossEntropyForward(zeros(ref, 2, 3), floatLabels, 255, true,
                zeros(ref, 2, 3), zeros(ref, 1)), "softmaxCrossEntropyForward", "labels", "F32", "I32");
        throwsNaming(() -> ref.reluForward(labels(ref, 1, 2), zeros(ref, 2)), "reluForward", "x", "I32");
    }
}
