package org.densecl.data.sim;

/**
 * One simulated image: 8-bit gray B-mode, the label map it was rendered from (both row-major
 * (height, width)), optionally the pre-log envelope, and what was drawn (for the manifest).
 * Reused between images by a worker: {@link KneeSimulator#generate} overwrites it.
 */
public final class SimImage {
    public final int height, width;
    public final byte[] gray;      // (height, width) B-mode, 0..255
    public final byte[] labels;    // (height, width) Tissue ordinal
    public final float[] envelope; // (height, width) envelope after TGC, before log; null unless asked for
    public final float[] boneTopRow; // (width) image row where femur or patella starts
    public long seed, index;
    public double pxMm, depthMm, frequencyMhz, dynamicRangeDb;
    public boolean recessPresent;
    public double recessDepthMm;   // sampled maximum fluid depth

    public SimImage(int height, int width, boolean keepEnvelope) {
        if (height < 16 || width < 16) {
            throw new IllegalArgumentException("simulated image must be at least 16x16, got " + height + "x" + width);
        }
        this.height = height;
        this.width = width;
        this.gray = new byte[height * width];
        this.labels = new byte[height * width];
        this.envelope = keepEnvelope ? new float[height * width] : null;
        this.boneTopRow = new float[width];
    }

    /** Segmentation mask (height, width): 1 where the label is the recess, 0 elsewhere. */
    public byte[] mask(byte[] out) {
        byte recess = (byte) Tissue.RECESS.ordinal();
        for (int i = 0; i < labels.length; i++) {
            out[i] = (byte) (labels[i] == recess ? 1 : 0);
        }
        return out;
    }

    /** Number of recess (foreground) pixels. */
    public int recessArea() {
        int recess = Tissue.RECESS.ordinal();
        int n = 0;
        for (byte l : labels) {
            n += (l ^ recess) == 0 ? 1 : 0;
        }
        return n;
    }

    public Tissue label(int z, int x) {
        return Tissue.of(labels[z * width + x]);
    }
}
