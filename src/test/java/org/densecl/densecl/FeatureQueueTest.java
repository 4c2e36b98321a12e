package org.densecl.densecl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The queue's init (unit rows, seeded) and FIFO wrap-around. Exact comparisons: copies only. */
class FeatureQueueTest {
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    @Test
    void initialRowsAreUnitAndSeeded() {
        FeatureQueue a = new FeatureQueue(be, "queue", DType.F64, 6, 5);
        FeatureQueue b = new FeatureQueue(be, "queue", DType.F64, 6, 5);
        a.initialize(3);
        b.initialize(3);
        for (int r = 0; r < 6; r++) {
            double ss = 0;
            for (int c = 0; c < 5; c++) {
                double v = a.keys().get(r * 5L + c);
                ss += v * v;
                assertEquals(v, b.keys().get(r * 5L + c), "FeatureQueue.initialize: same seed, row " + r);
            }
            // Rows are normalised in double then stored through float: |1 - ||row||^2| ~ 1e-7.
            assertEquals(1.0, ss, 1e-6, "FeatureQueue.initialize (6, 5): row " + r + " is not unit");
        }
        assertEquals(0, a.pointer());
    }

    @Test
    void enqueueOverwritesOldestRowsAndWraps() {
        FeatureQueue q = new FeatureQueue(be, "queue", DType.F64, 6, 3);
        q.initialize(1);
        Tensor batch = be.allocate(DType.F64, Shape.of(2, 3));
        for (int t = 1; t <= 4; t++) { // 4 batches of 2 into 6 rows: the 4th overwrites rows 0-1
            for (int i = 0; i < 6; i++) {
                batch.set(i, 100 * t + i);
            }
            q.enqueue(batch);
            assertEquals((2 * t) % 6, q.pointer(), "FeatureQueue.enqueue (K 6, N 2): pointer after batch " + t);
        }
        int[] batchOfRow = {4, 4, 2, 2, 3, 3};
        for (int r = 0; r < 6; r++) {
            for (int c = 0; c < 3; c++) {
                double want = 100 * batchOfRow[r] + (r % 2) * 3 + c;
                assertEquals(want, q.keys().get(r * 3L + c), "FeatureQueue.enqueue: row " + r + " col " + c);
            }
        }
    }

    @Test
    void batchMustDivideQueue() {
        FeatureQueue q = new FeatureQueue(be, "queue2", DType.F64, 5, 3);
        Tensor batch = be.allocate(DType.F64, Shape.of(2, 3));
        assertThrows(IllegalArgumentException.class, () -> q.enqueue(batch));
        Tensor wide = be.allocate(DType.F64, Shape.of(1, 4));
        assertThrows(IllegalArgumentException.class, () -> q.enqueue(wide));
    }
}
