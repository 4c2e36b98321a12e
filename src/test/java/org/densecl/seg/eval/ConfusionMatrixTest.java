package org.densecl.seg.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.densecl.data.io.LabelImage;
import org.junit.jupiter.api.Test;

/** mmsegmentation's metrics on cases small enough to work out by hand (all values in percent). */
class ConfusionMatrixTest {
    // exact ratios of small counts: only the last bits of a double division can differ
    private static final double EPS = 1e-9;

    /*
     * 2 classes, one 2x4 image:      label 0 0 0 0 | 0 1 1 1
     *                                pred  0 0 0 1 | 1 1 1 0
     * class 0: I = 3 (px 0,1,2), P = 4 (px 0,1,2,7), L = 5 (px 0..4), U = 4+5-3 = 6
     *          IoU 3/6 = 50, Dice 6/9 = 66.67, Acc 3/5 = 60
     * class 1: I = 2 (px 5,6), P = 4 (px 3..6), L = 3 (px 5,6,7), U = 4+3-2 = 5
     *          IoU 2/5 = 40, Dice 4/7 = 57.14, Acc 2/3 = 66.67
     * mIoU 45, mDice (600/9 + 400/7)/2, mAcc (60 + 200/3)/2, aAcc 5/8 = 62.5
     */
    private static final int[] LABEL2 = {0, 0, 0, 0, 0, 1, 1, 1};
    private static final int[] PRED2 = {0, 0, 0, 1, 1, 1, 1, 0};

    @Test
    void twoClassesByHand() {
        ConfusionMatrix cm = new ConfusionMatrix(2);
        cm.add(PRED2, LABEL2);
        assertArrayEquals(new long[] {3, 2}, cm.intersect());
        assertArrayEquals(new long[] {4, 4}, cm.predArea());
        assertArrayEquals(new long[] {5, 3}, cm.labelArea());
        assertArrayEquals(new long[] {6, 5}, cm.union());
        SegMetrics m = cm.metrics();
        assertArrayEquals(new double[] {50, 40}, m.iou(), EPS);
        assertArrayEquals(new double[] {600.0 / 9, 400.0 / 7}, m.dice(), EPS);
        assertArrayEquals(new double[] {60, 200.0 / 3}, m.accuracy(), EPS);
        assertEquals(45, m.mIoU(), EPS);
        assertEquals((600.0 / 9 + 400.0 / 7) / 2, m.mDice(), EPS);
        assertEquals((60 + 200.0 / 3) / 2, m.mAcc(), EPS);
        assertEquals(62.5, m.aAcc(), EPS);
        assertEquals("mIoU 45.00 mDice 61.90 mAcc 63.33 aAcc 62.50", m.summary());
    }

    /*
     * 3 classes, one 3x3 image:      label 0 0 1 | 1 1 2 | 2 2 2
     *                                pred  0 1 1 | 1 2 2 | 2 0 2
     * class 0: I = 1 (px 0),     P = 2 (px 0,7),     L = 2 (px 0,1),     U = 3: IoU 33.33, Dice 2/4 = 50, Acc 1/2 = 50
     * class 1: I = 2 (px 2,3),   P = 3 (px 1,2,3),   L = 3 (px 2,3,4),   U = 4: IoU 50, Dice 4/6 = 66.67, Acc 2/3 = 66.67
     * class 2: I = 3 (px 5,6,8), P = 4 (px 4,5,6,8), L = 4 (px 5..8),    U = 5: IoU 60, Dice 6/8 = 75, Acc 3/4 = 75
     * mIoU (100/3 + 50 + 60)/3 = 47.78, mDice = mAcc = (50 + 200/3 + 75)/3 = 63.89, aAcc 6/9 = 66.67
     */
    private static final int[] LABEL3 = {0, 0, 1, 1, 1, 2, 2, 2, 2};
    private static final int[] PRED3 = {0, 1, 1, 1, 2, 2, 2, 0, 2};

    @Test
    void threeClassesByHand() {
        ConfusionMatrix cm = new ConfusionMatrix(3);
        cm.add(PRED3, LABEL3);
        assertEquals(1, cm.count(2, 0), "pixel 7: label 2 predicted 0");
        assertEquals(0, cm.count(0, 2));
        SegMetrics m = cm.metrics();
        assertArrayEquals(new double[] {100.0 / 3, 50, 60}, m.iou(), EPS);
        assertArrayEquals(new double[] {50, 200.0 / 3, 75}, m.dice(), EPS);
        assertArrayEquals(new double[] {50, 200.0 / 3, 75}, m.accuracy(), EPS);
        assertEquals((100.0 / 3 + 50 + 60) / 3, m.mIoU(), EPS);
        assertEquals((50 + 200.0 / 3 + 75) / 3, m.mDice(), EPS);
        assertEquals((50 + 200.0 / 3 + 75) / 3, m.mAcc(), EPS);
        assertEquals(600.0 / 9, m.aAcc(), EPS);
    }

    /** The 2-class image scored as 3 classes: class 2 is in neither map, so it is NaN and left out of the means. */
    @Test
    void aClassAbsentFromTheSplitIsNaNAndLeftOutOfTheMeans() {
        ConfusionMatrix cm = new ConfusionMatrix(3);
        cm.add(PRED2, LABEL2);
        SegMetrics m = cm.metrics();
        assertTrue(Double.isNaN(m.iou()[2]) && Double.isNaN(m.dice()[2]) && Double.isNaN(m.accuracy()[2]));
        assertEquals(45, m.mIoU(), EPS);
        assertEquals((600.0 / 9 + 400.0 / 7) / 2, m.mDice(), EPS);
        assertEquals(62.5, m.aAcc(), EPS);
        assertTrue(m.table(List.of("bg", "cartilage", "bone")).contains("NaN"));
    }

    /*
     * A class only predicted, never labelled, counts as IoU 0 (not NaN): label 0 0, pred 0 2, 3 classes.
     * class 0: I 1, P 1, L 2, U 2 -> IoU 50, Acc 50; class 1 absent -> NaN; class 2: I 0, P 1, L 0, U 1 -> IoU 0,
     * Dice 0, Acc NaN (no labels). mIoU (50 + 0)/2 = 25, mAcc 50 (class 0 only), aAcc 1/2 = 50.
     */
    @Test
    void aClassOnlyPredictedScoresZero() {
        ConfusionMatrix cm = new ConfusionMatrix(3);
        cm.add(new int[] {0, 2}, new int[] {0, 0});
        SegMetrics m = cm.metrics();
        assertEquals(0, m.iou()[2]);
        assertEquals(0, m.dice()[2]);
        assertTrue(Double.isNaN(m.accuracy()[2]));
        assertEquals(25, m.mIoU(), EPS);
        assertEquals(50, m.mAcc(), EPS);
        assertEquals(50, m.aAcc(), EPS);
    }

    /** Pixels labelled 255 count nowhere, whatever was predicted there: the metrics equal those without them. */
    @Test
    void ignoredPixelsAreSkipped() {
        int[] label = new int[LABEL2.length + 4], pred = new int[PRED2.length + 4];
        System.arraycopy(LABEL2, 0, label, 0, LABEL2.length);
        System.arraycopy(PRED2, 0, pred, 0, PRED2.length);
        for (int i = LABEL2.length; i < label.length; i++) {
            label[i] = 255;
            pred[i] = i % 2;
        }
        ConfusionMatrix cm = new ConfusionMatrix(2);
        cm.add(pred, label);
        assertArrayEquals(new long[] {4, 4}, cm.predArea(), "ignored pixels add no predicted area");
        assertEquals(45, cm.metrics().mIoU(), EPS);
        assertEquals(62.5, cm.metrics().aAcc(), EPS);

        // the same through unsigned bytes, where the ignore index is stored as (byte) 255
        byte[] lb = new byte[label.length], pb = new byte[pred.length];
        for (int i = 0; i < lb.length; i++) {
            lb[i] = (byte) label[i];
            pb[i] = (byte) pred[i];
        }
        ConfusionMatrix bytes = new ConfusionMatrix(2);
        bytes.add(new LabelImage(3, 4, pb), new LabelImage(3, 4, lb));
        assertArrayEquals(cm.intersect(), bytes.intersect());
        assertArrayEquals(cm.union(), bytes.union());
    }

    @Test
    void aPerfectPredictionScoresHundred() {
        ConfusionMatrix cm = new ConfusionMatrix(3);
        cm.add(LABEL3.clone(), LABEL3);
        SegMetrics m = cm.metrics();
        assertArrayEquals(new double[] {100, 100, 100}, m.iou(), 0);
        assertArrayEquals(new double[] {100, 100, 100}, m.dice(), 0);
        assertEquals(100, m.mIoU(), 0);
        assertEquals(100, m.mDice(), 0);
        assertEquals(100, m.aAcc(), 0);
    }

    /**
     * Two partial accumulations merged equal one accumulation, and the metrics come from summed areas:
     * the 2-class image (mIoU 45) plus a perfect all-class-0 image of 8 pixels. Summed: class 0 I 11, P 12,
     * L 13, U 14 -> IoU 11/14; class 1 unchanged, 40. mIoU (1100/14 + 40)/2 = 59.29, not the mean of the
     * per-image mIoUs (45 and 100 -> 72.5).
     */
    @Test
    void mergingPartialAccumulationsEqualsOneAccumulation() {
        int[] zeros = new int[8];
        ConfusionMatrix a = new ConfusionMatrix(2), b = new ConfusionMatrix(2), all = new ConfusionMatrix(2);
        a.add(PRED2, LABEL2);
        b.add(zeros, zeros);
        all.add(PRED2, LABEL2);
        all.add(zeros, zeros);
        a.merge(b);
        for (int l = 0; l < 2; l++) {
            for (int p = 0; p < 2; p++) {
                assertEquals(all.count(l, p), a.count(l, p), "count(" + l + ", " + p + ")");
            }
        }
        assertArrayEquals(all.metrics().iou(), a.metrics().iou(), 0);
        assertEquals((1100.0 / 14 + 40) / 2, a.metrics().mIoU(), EPS);
        assertThrows(IllegalArgumentException.class, () -> a.merge(new ConfusionMatrix(3)));
    }

    @Test
    void aLabelOutsideTheClassesIsAnErrorNamingTheValueAndAddsNothing() {
        ConfusionMatrix cm = new ConfusionMatrix(3);
        var e = assertThrows(IllegalArgumentException.class,
                () -> cm.add(new int[] {0, 1, 2, 1}, new int[] {0, 1, 2, 7}));
        assertTrue(e.getMessage().contains("label value 7") && e.getMessage().contains("255"), e.getMessage());
        assertArrayEquals(new long[] {0, 0, 0}, cm.labelArea(), "the failed image left no counts behind");
        var p = assertThrows(IllegalArgumentException.class, () -> cm.add(new int[] {3}, new int[] {0}));
        assertTrue(p.getMessage().contains("predicted value 3"), p.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ConfusionMatrix(3, 2), "ignore index among the classes");
    }

    @Test
    void aSizeMismatchNamesBothSizes() {
        ConfusionMatrix cm = new ConfusionMatrix(2);
        var e = assertThrows(IllegalArgumentException.class, () -> cm.add(new int[6], new int[8]));
        assertTrue(e.getMessage().contains("6") && e.getMessage().contains("8"), e.getMessage());
        var img = assertThrows(IllegalArgumentException.class,
                () -> cm.add(new LabelImage(2, 3, new byte[6]), new LabelImage(3, 2, new byte[6])));
        assertTrue(img.getMessage().contains("3x2") && img.getMessage().contains("2x3"), img.getMessage());
    }

    @Test
    void metricsWithoutLabelledPixelsAreAnError() {
        ConfusionMatrix cm = new ConfusionMatrix(2);
        cm.add(new int[] {0, 1}, new int[] {255, 255});
        var e = assertThrows(IllegalStateException.class, cm::metrics);
        assertTrue(e.getMessage().contains("no labelled pixels"), e.getMessage());
    }
}
