package org.densecl.seg.eval;

import org.densecl.data.io.LabelImage;

/**
 * Pixel counts of (label class, predicted class) accumulated over a whole split, from which
 * mmsegmentation's metrics follow ({@link #metrics()}): its per-class intersection, union, predicted
 * area and label area are the diagonal, row and column sums of this matrix. Metrics come from the
 * split's summed areas, never from per-image IoUs averaged.
 *
 * <p>Pixels whose label is the ignore index (255 by default) are skipped. Any other label outside
 * 0..numClasses-1, and any prediction outside it, is an error naming the value (mmsegmentation would
 * silently drop such predictions from the predicted area; our models cannot produce them, so one is a
 * bug worth stopping for). An image that fails leaves the counts untouched. Not thread-safe: give
 * each thread its own matrix and {@link #merge} them.
 */
public final class ConfusionMatrix {
    private final int numClasses;
    private final int ignoreIndex;
    private final long[] counts; // (numClasses, numClasses): [label * numClasses + pred]

    /** A matrix for classes 0..numClasses-1 with mmsegmentation's ignore index, 255. */
    public ConfusionMatrix(int numClasses) {
        this(numClasses, LabelImage.IGNORE);
    }

    public ConfusionMatrix(int numClasses, int ignoreIndex) {
        if (numClasses < 1 || numClasses > 255) {
            throw new IllegalArgumentException("number of classes must be in [1, 255], got " + numClasses);
        }
        if (ignoreIndex >= 0 && ignoreIndex < numClasses) {
            throw new IllegalArgumentException("ignore index " + ignoreIndex + " is one of the " + numClasses
                    + " classes (0.." + (numClasses - 1) + "); use a value outside them, e.g. 255");
        }
        this.numClasses = numClasses;
        this.ignoreIndex = ignoreIndex;
        this.counts = new long[numClasses * numClasses];
    }

    public int numClasses() {
        return numClasses;
    }

    public int ignoreIndex() {
        return ignoreIndex;
    }

    /** Adds one image: predicted classes and labels, row-major (H, W), the same length. */
    public void add(int[] pred, int[] label) {
        if (pred.length != label.length) {
            throw new IllegalArgumentException("prediction has " + pred.length + " pixels but its label map has "
                    + label.length + "; both must be the same H*W");
        }
        for (int p = 0; p < pred.length; p++) { // check all first, so a bad image adds nothing
            check(pred[p], label[p], p);
        }
        for (int p = 0; p < pred.length; p++) {
            if (label[p] != ignoreIndex) {
                counts[label[p] * numClasses + pred[p]]++;
            }
        }
    }

    /** Adds one image of unsigned byte classes (0..255), row-major (H, W), the same length. */
    public void add(byte[] pred, byte[] label) {
        if (pred.length != label.length) {
            throw new IllegalArgumentException("prediction has " + pred.length + " pixels but its label map has "
                    + label.length + "; both must be the same H*W");
        }
        add(unsigned(pred), unsigned(label));
    }

    /** Adds one image; the maps must have the same height and width. */
    public void add(LabelImage pred, LabelImage label) {
        if (pred.height() != label.height() || pred.width() != label.width()) {
            throw new IllegalArgumentException("prediction is " + pred.width() + "x" + pred.height()
                    + " (WxH) but its label map is " + label.width() + "x" + label.height()
                    + "; resize the prediction to the label's size before scoring");
        }
        add(pred.labels(), label.labels());
    }

    /** Adds another matrix's counts (e.g. one accumulated by another thread). */
    public void merge(ConfusionMatrix other) {
        if (other.numClasses != numClasses || other.ignoreIndex != ignoreIndex) {
            throw new IllegalArgumentException("cannot merge a matrix of " + other.numClasses + " classes (ignore "
                    + other.ignoreIndex + ") into one of " + numClasses + " classes (ignore " + ignoreIndex + ")");
        }
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
    }

    /** Pixels labelled {@code label} and predicted {@code pred}. */
    public long count(int label, int pred) {
        return counts[label * numClasses + pred];
    }

    /** Per class: pixels predicted as the class and labelled as it (mmseg's area_intersect). */
    public long[] intersect() {
        long[] out = new long[numClasses];
        for (int c = 0; c < numClasses; c++) {
            out[c] = count(c, c);
        }
        return out;
    }

    /** Per class: non-ignored pixels predicted as the class (mmseg's area_pred_label). */
    public long[] predArea() {
        long[] out = new long[numClasses];
        for (int l = 0; l < numClasses; l++) {
            for (int p = 0; p < numClasses; p++) {
                out[p] += count(l, p);
            }
        }
        return out;
    }

    /** Per class: pixels labelled as the class (mmseg's area_label). */
    public long[] labelArea() {
        long[] out = new long[numClasses];
        for (int l = 0; l < numClasses; l++) {
            for (int p = 0; p < numClasses; p++) {
                out[l] += count(l, p);
            }
        }
        return out;
    }

    /** Per class: predArea + labelArea - intersect (mmseg's area_union). */
    public long[] union() {
        long[] i = intersect(), p = predArea(), l = labelArea(), out = new long[numClasses];
        for (int c = 0; c < numClasses; c++) {
            out[c] = p[c] + l[c] - i[c];
        }
        return out;
    }

    /** The split's metrics, in percent; an error if no labelled pixel was added. */
    public SegMetrics metrics() {
        long labelled = 0;
        for (long v : counts) {
            labelled += v;
        }
        if (labelled == 0) {
            throw new IllegalStateException("no labelled pixels were scored (nothing added, or every label was the "
                    + "ignore index " + ignoreIndex + "); metrics need at least one");
        }
        return SegMetrics.of(intersect(), predArea(), labelArea());
    }

    private void check(int pred, int label, int pixel) {
        if (label != ignoreIndex && (label < 0 || label >= numClasses)) {
            throw new IllegalArgumentException("label value " + label + " at pixel " + pixel + " is neither a class (0.."
                    + (numClasses - 1) + ") nor the ignore index " + ignoreIndex
                    + "; check the number of classes and the mask mapping");
        }
        if (pred < 0 || pred >= numClasses) {
            throw new IllegalArgumentException("predicted value " + pred + " at pixel " + pixel + " is not a class (0.."
                    + (numClasses - 1) + ")");
        }
    }

    private static int[] unsigned(byte[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }
}
