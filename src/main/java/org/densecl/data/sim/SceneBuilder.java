package org.densecl.data.sim;

import java.util.SplittableRandom;

/**
 * Draws a {@link KneeGeometry} onto a padded {@link Scene}: labels column by column from the
 * continuous boundaries (a pixel takes the tissue at its centre, so masks are exact by construction),
 * the specular interfaces with their incidence angle, and the tissue texture: a slow gain
 * inhomogeneity everywhere, fibrillar bands and anisotropy in the tendon, oblique septa in the
 * subcutaneous fat and the muscle, and slowly varying debris in the fluid.
 */
final class SceneBuilder {
    private final double[] tops = new double[KneeGeometry.BOUNDARIES];
    private double[] allTops = new double[0];      // (cols + 2, BOUNDARIES) boundary depths, mm
    private int[] segment = new int[0];            // (cols) current segment while filling labels
    private int recessPixels;                      // recess pixels in the padded grid
    private float[] colCos = new float[0], colShift = new float[0]; // (cols) fibril anisotropy and band offset
    private float[] tendonTopRow = new float[0];   // (cols) padded row of the tendon's upper border
    private float[] tendonCos = new float[0];      // (cols) cos of the fibre angle to the probe face

    void draw(KneeGeometry g, Acquisition acq, SimulatorConfig cfg, SplittableRandom rng, Scene s) {
        if (tendonTopRow.length < s.cols) {
            tendonTopRow = new float[s.cols];
            tendonCos = new float[s.cols];
        }
        drawColumns(g, acq, s);
        var t = cfg.texture();
        // one independent stream per component: a component's draws (or skipping it) never shift
        // what the others draw
        SplittableRandom inhomogeneity = rng.split(), fibrils = rng.split(), septa = rng.split(), debris = rng.split();
        SmoothField.multiply(s, -1, t.inhomogeneityDb().sample(inhomogeneity), t.inhomogeneityCellMm() / s.pxMm, inhomogeneity);
        fibrils(s, t, fibrils);
        int fatSepta = (int) Math.round(t.fatSepta().sample(septa));
        septa(g, s, Tissue.SUBCUT_FAT, fatSepta, 0, t, septa);
        int muscleSepta = (int) Math.round(t.muscleSepta().sample(septa));
        septa(g, s, Tissue.MUSCLE, muscleSepta, 0.15 + 0.25 * septa.nextDouble(), t, septa);
        double debrisDb = cfg.recess().debrisDb().sample(debris);
        if (recessPixels > 0) {
            SmoothField.multiply(s, Tissue.RECESS.ordinal(), debrisDb, t.debrisCellMm() / s.pxMm, debris);
        }
    }

    /**
     * Labels, interfaces, tendon border and bone depth for every padded column. The boundaries are
     * evaluated once per column centre (plus one column beyond each side); slopes come from the
     * neighbouring centres.
     */
    private void drawColumns(KneeGeometry g, Acquisition acq, Scene s) {
        double px = s.pxMm;
        int nb = KneeGeometry.BOUNDARIES;
        if (allTops.length < (s.cols + 2) * nb) {
            allTops = new double[(s.cols + 2) * nb];
        }
        for (int c = -1; c <= s.cols; c++) {
            g.column((c - s.padX + 0.5) * px, tops);
            System.arraycopy(tops, 0, allTops, (c + 1) * nb, nb);
        }
        fillLabels(s);
        double n = acq.specularExponent();
        for (int c = 0; c < s.cols; c++) {
            int here = (c + 1) * nb, left = c * nb, right = (c + 2) * nb;
            System.arraycopy(allTops, here, tops, 0, nb);
            Tissue above = Tissue.GEL;
            for (int k = 0; k < nb; k++) {
                boolean empty = k + 1 < nb && tops[k + 1] <= tops[k];
                double depthRows = tops[k] / px;
                if (empty || depthRows > s.height + s.padZ || Double.isInfinite(depthRows)) {
                    continue;
                }
                double slope = (allTops[right + k] - allTops[left + k]) / (2 * px);
                if (!Double.isFinite(slope)) {
                    slope = 1e3; // the patella's vertical pole edge: grazing incidence
                }
                double cos = 1 / Math.sqrt(1 + slope * slope);
                Tissue below = KneeGeometry.SEGMENTS[k];
                s.addInterface(c, (float) (depthRows + s.padZ - 0.5), (float) pow(cos, n), above, below);
                above = below;
            }
            tendonTopRow[c] = (float) (tops[2] / px + s.padZ - 0.5);
            double slope = 0.5 * ((allTops[right + 2] - allTops[left + 2]) + (allTops[right + 3] - allTops[left + 3])) / (2 * px);
            tendonCos[c] = (float) (1 / Math.sqrt(1 + slope * slope));
            int ix = c - s.padX;
            if (ix >= 0 && ix < s.width) {
                s.boneTopRow[ix] = (float) (Math.min(tops[7], tops[9]) / px);
            }
        }
    }

    /** x^n, by multiplication when n is a small whole number (the usual case), else StrictMath.pow. */
    static double pow(double x, double n) {
        if (n == Math.rint(n) && n >= 0 && n <= 16) {
            double p = 1;
            for (int i = 0; i < (int) n; i++) {
                p *= x;
            }
            return p;
        }
        return StrictMath.pow(x, n);
    }

    /**
     * A pixel takes the tissue at its centre depth: the last segment whose top lies above it. Filled
     * row by row (sequential writes), each column keeping its current segment as the rows go down.
     */
    private void fillLabels(Scene s) {
        int nb = KneeGeometry.BOUNDARIES;
        if (segment.length < s.cols) {
            segment = new int[s.cols];
        }
        java.util.Arrays.fill(segment, 0, s.cols, -1); // -1 = gel, above the skin
        byte[] ordinals = new byte[nb];
        for (int k = 0; k < nb; k++) {
            ordinals[k] = (byte) KneeGeometry.SEGMENTS[k].ordinal();
        }
        byte gel = (byte) Tissue.GEL.ordinal();
        recessPixels = 0;
        for (int r = 0; r < s.rows; r++) {
            double zc = (r - s.padZ + 0.5) * s.pxMm;
            int base = r * s.cols;
            for (int c = 0; c < s.cols; c++) {
                int k = segment[c];
                int t = (c + 1) * nb; // allTops row of this column
                while (k + 1 < nb && allTops[t + k + 1] <= zc) {
                    k++;
                }
                segment[c] = k;
                byte label = k < 0 ? gel : ordinals[k];
                s.labels[base + c] = label;
                recessPixels += label == ordinals[5] ? 1 : 0;
            }
        }
    }

    /**
     * Tendon fibrils: bands parallel to the tendon's upper border, a smoothed random sequence of
     * spacing fibrilPeriodMm in depth, drifting slightly along the tendon; times the anisotropy
     * factor |cos|^n of the fibre angle.
     */
    private void fibrils(Scene s, SimulatorConfig.Texture t, SplittableRandom rng) {
        double sigmaDb = t.fibrilDb().sample(rng);
        double periodRows = t.fibrilPeriodMm() / s.pxMm;
        int knots = (int) Math.ceil(s.rows / (0.5 * periodRows)) + 4;
        double[] knot = new double[knots];
        for (int i = 0; i < knots; i++) {
            knot[i] = StrictMath.exp(sigmaDb * StrictMath.log(10) / 20 * Gaussians.fast(rng));
        }
        double driftAmp = 0.4 * periodRows, driftK = 2 * Math.PI / (40 + 80 * rng.nextDouble()), driftPhase = 6.28 * rng.nextDouble();
        byte tendon = (byte) Tissue.TENDON.ordinal();
        double aniso = t.anisotropyExponent();
        if (colCos.length < s.cols) {
            colCos = new float[s.cols];
            colShift = new float[s.cols];
        }
        for (int c = 0; c < s.cols; c++) {
            colCos[c] = (float) pow(tendonCos[c], aniso);
            colShift[c] = (float) (driftAmp * (1 + StrictMath.sin(driftK * c + driftPhase)) - tendonTopRow[c]);
        }
        double inv = 1 / (0.5 * periodRows);
        for (int r = 0; r < s.rows; r++) { // row-major: sequential access to labels and texture
            int base = r * s.cols;
            for (int c = 0; c < s.cols; c++) {
                if (s.labels[base + c] != tendon) {
                    continue;
                }
                double pos = (r + colShift[c]) * inv;
                int k = Math.clamp((long) Math.floor(pos), 0, knots - 2);
                double f = Math.clamp(pos - k, 0, 1);
                double w = f * f * (3 - 2 * f); // smoothstep: bands without kinks
                s.texture[base + c] *= (float) ((knot[k] * (1 - w) + knot[k + 1] * w) * colCos[c]);
            }
        }
    }

    /**
     * Thin bright septa inside one tissue: line segments one pixel wide with an echo boost that fades
     * towards their ends. Fat septa run in random oblique directions; muscle septa share one pennation
     * angle (radians, given), so they look like parallel fibro-adipose lines.
     */
    private void septa(KneeGeometry g, Scene s, Tissue tissue, int count, double pennation,
                       SimulatorConfig.Texture t, SplittableRandom rng) {
        byte want = (byte) tissue.ordinal();
        double px = s.pxMm;
        for (int n = 0; n < count; n++) {
            double x0 = (rng.nextDouble() * (s.width + 2 * s.padX) - s.padX) * px;
            g.column(x0, tops);
            int k = tissue == Tissue.SUBCUT_FAT ? 1 : 4;
            double top = tops[k], bottom = tops[k + 1];
            if (bottom - top < 2 * px) {
                continue;
            }
            double z0 = top + (bottom - top) * (0.1 + 0.8 * rng.nextDouble());
            double angle = pennation > 0 ? pennation + 0.08 * Gaussians.normal(rng)
                    : (rng.nextBoolean() ? 1 : -1) * (0.08 + 0.5 * rng.nextDouble());
            double length = (tissue == Tissue.SUBCUT_FAT ? 2 + 8 * rng.nextDouble() : 5 + 15 * rng.nextDouble()) / px;
            double boost = StrictMath.pow(10, t.septaDb().sample(rng) / 20) - 1;
            double dx = StrictMath.cos(angle), dz = StrictMath.sin(angle);
            double cx = x0 / px + s.padX - 0.5, cz = z0 / px + s.padZ - 0.5;
            int steps = (int) Math.ceil(2 * length);
            int last = -1;
            for (int i = 0; i <= steps; i++) {
                double u = (double) i / steps - 0.5; // -0.5 .. 0.5 along the segment
                int c = (int) Math.round(cx + u * length * dx);
                int r = (int) Math.round(cz + u * length * dz);
                if (c < 0 || c >= s.cols || r < 0 || r >= s.rows) {
                    continue;
                }
                int idx = r * s.cols + c;
                if (idx == last || s.labels[idx] != want) {
                    continue;
                }
                last = idx;
                s.texture[idx] *= (float) (1 + boost * (1 - 4 * u * u)); // fades to 0 at the ends
            }
        }
    }
}
