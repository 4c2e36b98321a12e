package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.train.DoubleBufferedInputs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The double-buffered inputs of the training loops ({@link DoubleBufferedInputs} on
 * {@link Backend#uploadAsync} and {@link Backend#awaitUpload}) on the stand-ins: the wait graph the stand-in
 * libcuda logs shows the copy of batch k+1 independent of step k's kernels, and step k's kernels independent
 * of that copy, while each copy still follows the last reader of its buffer and precedes the step that reads
 * it; a small training loop gives the same bits as with plain uploads.
 */
class CudaInputOverlapTest {
    private static final int ROWS = 16, FEATURES = 8, CLASSES = 4, STEPS = 4;
    private static StandIns stand;

    @BeforeAll
    static void build() throws Throwable {
        stand = StandIns.get();
    }

    @Test
    void nextBatchCopyOverlapsTheCurrentStep() throws Throwable {
        try (CudaBackend be = stand.backend("fp32")) {
            Tensor acc = be.allocate(Shape.of(ROWS, FEATURES)); // (ROWS, FEATURES): what the steps read into
            DoubleBufferedInputs inputs = new DoubleBufferedInputs(be, new DType[] {DType.F32},
                    new Shape[] {Shape.of(ROWS, FEATURES)});
            stand.log(true);
            // log line ranges: [copyStart[k], copyEnd[k]) stages batch k, [stepStart[k], stepEnd[k]) is step k
            int[] copyStart = new int[STEPS], copyEnd = new int[STEPS], stepStart = new int[STEPS];
            int[] stepEnd = new int[STEPS];
            inputs.stage((Object) batch(0));
            copyEnd[0] = stand.logged().size();
            for (int k = 0; k < STEPS; k++) {
                inputs.next();
                Tensor x = inputs.input(0);
                if (k + 1 < STEPS) {
                    copyStart[k + 1] = stand.logged().size();
                    inputs.stage((Object) batch(k + 1));
                    copyEnd[k + 1] = stand.logged().size();
                }
                stepStart[k] = stand.logged().size();
                be.axpy(1f, x, acc); // the step: reads its input
                be.scale(acc, 0.5f);
                stepEnd[k] = stand.logged().size();
            }
            List<String> log = stand.logged();
            stand.log(false);
            Graph graph = new Graph(log);
            for (int k = 0; k + 1 < STEPS; k++) {
                int copy = graph.only("htod", copyStart[k + 1], copyEnd[k + 1]);
                for (int launch : graph.all("launch", stepStart[k], stepEnd[k])) {
                    assertFalse(graph.dependsOn(copy, launch), "the copy of batch " + (k + 1) + " waits for step " + k);
                    assertFalse(graph.dependsOn(launch, copy), "step " + k + " waits for the copy of batch " + (k + 1));
                }
                if (k > 0) { // the buffer of batch k+1 was last read by step k-1
                    for (int launch : graph.all("launch", stepStart[k - 1], stepEnd[k - 1])) {
                        assertTrue(graph.dependsOn(copy, launch), "batch " + (k + 1) + " overwrites step " + (k - 1)
                                + "'s input while it may still be read");
                    }
                }
                for (int launch : graph.all("launch", stepStart[k + 1], stepEnd[k + 1])) {
                    assertTrue(graph.dependsOn(launch, copy), "step " + (k + 1) + " may read its input before the copy");
                }
            }
        }
    }

    @Test
    void doubleBufferedTrainingGivesTheBitsOfPlainUploads() throws Throwable {
        float[][] plain = train(false), buffered = train(true);
        for (int i = 0; i < plain.length; i++) {
            assertArrayEquals(plain[i], buffered[i], i < STEPS ? "loss of step " + i : "weights after the steps");
        }
    }

    /** A softmax classifier trained for STEPS steps: each step's loss, then the final weights. */
    private static float[][] train(boolean doubleBuffered) throws Throwable {
        try (CudaBackend be = stand.backend("fp32")) {
            Tensor w = be.allocate(Shape.of(CLASSES, FEATURES)), dw = be.allocate(Shape.of(CLASSES, FEATURES));
            Tensor logits = be.allocate(Shape.of(ROWS, CLASSES)), probs = be.allocate(Shape.of(ROWS, CLASSES));
            Tensor dlogits = be.allocate(Shape.of(ROWS, CLASSES)), loss = be.allocate(Shape.of(1));
            Tensor[] plain = {be.allocate(Shape.of(ROWS, FEATURES)), be.allocate(DType.I32, Shape.of(ROWS))};
            DoubleBufferedInputs inputs = new DoubleBufferedInputs(be, new DType[] {DType.F32, DType.I32},
                    new Shape[] {Shape.of(ROWS, FEATURES), Shape.of(ROWS)});
            be.upload(java.util.Arrays.copyOf(batch(99), CLASSES * FEATURES), w);
            float[][] out = new float[STEPS + 1][];
            if (doubleBuffered) {
                inputs.stage(batch(0), labels(0));
            }
            for (int k = 0; k < STEPS; k++) {
                Tensor[] in;
                if (doubleBuffered) {
                    inputs.next();
                    in = new Tensor[] {inputs.input(0), inputs.input(1)};
                    if (k + 1 < STEPS) {
                        inputs.stage(batch(k + 1), labels(k + 1));
                    }
                } else {
                    be.upload(batch(k), plain[0]);
                    be.upload(labels(k), plain[1]);
                    in = plain;
                }
                be.gemm(false, true, ROWS, CLASSES, FEATURES, 1f, in[0], w, 0f, logits);
                be.softmaxCrossEntropyForward(logits, in[1], -1, false, probs, loss);
                be.zero(dlogits);
                be.softmaxCrossEntropyBackward(probs, in[1], -1, false, 1f, dlogits);
                be.gemm(true, false, CLASSES, FEATURES, ROWS, 1f, dlogits, in[0], 0f, dw);
                be.sgdStep(w, dw, null, 0.5f, 0f, 0f);
                out[k] = new float[1];
                be.download(loss, out[k]);
            }
            out[STEPS] = new float[CLASSES * FEATURES];
            be.download(w, out[STEPS]);
            return out;
        }
    }

    private static float[] batch(int k) {
        SplittableRandom r = new SplittableRandom(1000 + k);
        float[] x = new float[ROWS * FEATURES];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble(-1, 1);
        }
        return x;
    }

    private static int[] labels(int k) {
        SplittableRandom r = new SplittableRandom(2000 + k);
        int[] y = new int[ROWS];
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(CLASSES);
        }
        return y;
    }

    /**
     * The device's ordering as the log implies it: each stream runs its operations in order; "record E S"
     * captures S's latest operation, "wait S E" makes S's later operations follow what E captured.
     */
    private static final class Graph {
        private final List<String> lines;
        private final Map<Integer, List<Integer>> before = new HashMap<>(); // line → lines it directly follows

        Graph(List<String> lines) {
            this.lines = lines;
            Map<String, Integer> tail = new HashMap<>();    // stream → its latest operation or wait
            Map<String, Integer> captured = new HashMap<>(); // event → the operation its record captured
            for (int i = 0; i < lines.size(); i++) {
                String[] f = lines.get(i).split(" ");
                List<Integer> deps = new ArrayList<>();
                switch (f[0]) {
                    case "record" -> {
                        if (tail.containsKey(f[2])) {
                            captured.put(f[1], tail.get(f[2]));
                        }
                        continue;
                    }
                    case "wait" -> {
                        if (captured.containsKey(f[2])) {
                            deps.add(captured.get(f[2]));
                        }
                    }
                    case "htod", "dtoh", "dtod", "memset", "launch", "sync" -> { }
                    default -> {
                        continue;
                    }
                }
                if (tail.containsKey(f[1])) {
                    deps.add(tail.get(f[1]));
                }
                tail.put(f[1], i);
                before.put(i, deps);
            }
        }

        /** Whether operation {@code later} follows operation {@code earlier} on the device. */
        boolean dependsOn(int later, int earlier) {
            List<Integer> todo = new ArrayList<>(before.getOrDefault(later, List.of()));
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            while (!todo.isEmpty()) {
                int i = todo.removeLast();
                if (i == earlier) {
                    return true;
                }
                if (seen.add(i)) {
                    todo.addAll(before.getOrDefault(i, List.of()));
                }
            }
            return false;
        }

        List<Integer> all(String kind, int from, int to) {
            List<Integer> out = new ArrayList<>();
            for (int i = from; i < to; i++) {
                if (lines.get(i).startsWith(kind + " ")) {
                    out.add(i);
                }
            }
            return out;
        }

        /** The one {@code kind} line in [from, to). */
        int only(String kind, int from, int to) {
            List<Integer> found = all(kind, from, to);
            assertEquals(1, found.size(), kind + " lines in " + lines.subList(from, to));
            return found.getFirst();
        }
    }
}
