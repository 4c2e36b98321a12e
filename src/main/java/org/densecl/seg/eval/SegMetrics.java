package org.densecl.seg.eval;

import java.util.List;
import java.util.Locale;

/**
 * mmsegmentation's segmentation metrics of one split, all in PERCENT (0..100), as mmseg reports them
 * (it also rounds to 2 decimals for its table; these values are not rounded). Per class c, from the
 * split's summed areas: IoU = I/U, Dice = 2I/(P+L), accuracy = I/L; a class absent from both
 * prediction and labels has IoU and Dice NaN, one absent from the labels has accuracy NaN. The means
 * (mIoU, mDice, mAcc) skip NaN classes (numpy's nanmean); aAcc = sum(I)/sum(L) over all pixels.
 */
public final class SegMetrics {
    private final double[] iou, dice, accuracy;
    private final double mIoU, mDice, mAcc, aAcc;

    private SegMetrics(double[] iou, double[] dice, double[] accuracy, double aAcc) {
        this.iou = iou;
        this.dice = dice;
        this.accuracy = accuracy;
        this.mIoU = nanMean(iou);
        this.mDice = nanMean(dice);
        this.mAcc = nanMean(accuracy);
        this.aAcc = aAcc;
    }

    /** Metrics from per-class areas: intersection, predicted area, label area (pixel counts). */
    static SegMetrics of(long[] intersect, long[] predArea, long[] labelArea) {
        int n = intersect.length;
        double[] iou = new double[n], dice = new double[n], acc = new double[n];
        long sumI = 0, sumL = 0;
        for (int c = 0; c < n; c++) {
            long i = intersect[c], p = predArea[c], l = labelArea[c];
            iou[c] = ratio(i, p + l - i);
            dice[c] = ratio(2 * i, p + l);
            acc[c] = ratio(i, l);
            sumI += i;
            sumL += l;
        }
        return new SegMetrics(iou, dice, acc, ratio(sumI, sumL));
    }

    public int numClasses() {
        return iou.length;
    }

    /** Mean IoU over the classes present in prediction or labels, percent. */
    public double mIoU() {
        return mIoU;
    }

    /** Mean Dice over the classes present in prediction or labels, percent. */
    public double mDice() {
        return mDice;
    }

    /** Mean per-class accuracy over the classes present in the labels, percent. */
    public double mAcc() {
        return mAcc;
    }

    /** Overall pixel accuracy: correctly classified labelled pixels / labelled pixels, percent. */
    public double aAcc() {
        return aAcc;
    }

    /** Per-class IoU, percent, NaN for a class absent from prediction and labels (a copy). */
    public double[] iou() {
        return iou.clone();
    }

    /** Per-class Dice, percent, NaN for a class absent from prediction and labels (a copy). */
    public double[] dice() {
        return dice.clone();
    }

    /** Per-class accuracy (recall), percent, NaN for a class absent from the labels (a copy). */
    public double[] accuracy() {
        return accuracy.clone();
    }

    /** One line: {@code mIoU 71.23 mDice 80.50 mAcc 85.00 aAcc 95.12} (percent). */
    public String summary() {
        return String.format(Locale.ROOT, "mIoU %.2f mDice %.2f mAcc %.2f aAcc %.2f", mIoU, mDice, mAcc, aAcc);
    }

    /** mmseg's per-class table as text: class, IoU, Dice, Acc (percent, 2 decimals, "NaN" where undefined). */
    public String table(List<String> classNames) {
        if (classNames.size() != iou.length) {
            throw new IllegalArgumentException(classNames.size() + " class names for " + iou.length + " classes");
        }
        int w = Math.max(5, classNames.stream().mapToInt(String::length).max().orElse(0));
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s %7s %7s %7s%n", "class", "IoU", "Dice", "Acc"));
        for (int c = 0; c < iou.length; c++) {
            sb.append(String.format(Locale.ROOT, "%-" + w + "s %7.2f %7.2f %7.2f%n", classNames.get(c), iou[c], dice[c], accuracy[c]));
        }
        return sb.append(summary()).append(System.lineSeparator()).toString();
    }

    /** Mean of the non-NaN values; NaN if all are NaN. */
    public static double nanMean(double[] v) {
        double sum = 0;
        int n = 0;
        for (double x : v) {
            if (!Double.isNaN(x)) {
                sum += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static double ratio(long num, long den) {
        return den == 0 ? Double.NaN : 100.0 * num / den;
    }
}
