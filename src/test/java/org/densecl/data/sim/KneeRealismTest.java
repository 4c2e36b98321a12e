package org.densecl.data.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Realism checks on generated knee images with the default config: the recess lumen is darker than
 * the tissue around it (gCNR), bone casts an acoustic shadow, and fluid gives posterior enhancement.
 */
class KneeRealismTest {
    static final int SIZE = 256, COUNT = 48;
    static SimImage[] images;

    @BeforeAll
    static void generate() {
        SimulatorConfig cfg = SimulatorConfig.load(Path.of(SimulatorConfig.DEFAULT_PATH), List.of());
        KneeSimulator sim = new KneeSimulator(cfg);
        images = new SimImage[COUNT];
        for (int i = 0; i < COUNT; i++) {
            images[i] = new SimImage(SIZE, SIZE, false);
            sim.generate(7, i, images[i]);
        }
    }

    @Test
    void recessInteriorIsDarkerThanSurroundingTissue() {
        int measured = 0;
        double sum = 0, worst = 1;
        for (SimImage img : images) {
            if (img.recessArea() < 400) {
                continue;
            }
            int[] dist = chessboardDistanceToRecess(img, false); // 0 inside
            int[] depthIn = chessboardDistanceToRecess(img, true); // distance to the nearest non-recess pixel
            int[] in = new int[256], ring = new int[256];
            long sIn = 0, nIn = 0, sRing = 0, nRing = 0;
            for (int i = 0; i < img.labels.length; i++) {
                int g = img.gray[i] & 0xff;
                Tissue t = Tissue.of(img.labels[i]);
                if (t == Tissue.RECESS && depthIn[i] >= 3) {
                    in[g]++;
                    sIn += g;
                    nIn++;
                } else if (dist[i] >= 3 && dist[i] <= 10 && t != Tissue.CORTEX && t != Tissue.BONE && t != Tissue.PATELLA) {
                    ring[g]++;
                    sRing += g;
                    nRing++;
                }
            }
            if (nIn < 100) {
                continue;
            }
            double gcnr = SpeckleStats.gcnr(in, ring);
            assertTrue((double) sIn / nIn < (double) sRing / nRing,
                    "image " + img.index + ": recess mean " + sIn / nIn + " not below surrounding " + sRing / nRing);
            sum += gcnr;
            worst = Math.min(worst, gcnr);
            measured++;
        }
        double mean = sum / measured;
        System.out.printf(Locale.ROOT, "realism: recess vs surrounding tissue gCNR mean %.2f, min %.2f over %d images%n", mean, worst, measured);
        assertTrue(measured >= 15, "too few images with a recess to measure: " + measured);
        assertTrue(mean >= 0.7, "mean gCNR " + mean);
        // bounds from 256 images of seed 7: mean 0.79, min 0.26 (echogenic fluid beside hypoechoic muscle)
        assertTrue(worst >= 0.2, "worst gCNR " + worst);
    }

    @Test
    void boneCastsAnAcousticShadow() {
        double worst = 0, sum = 0;
        int measured = 0;
        for (SimImage img : images) {
            double below = 0, above = 0;
            long nb = 0, na = 0;
            int shadowStart = (int) Math.ceil(1.5 / img.pxMm); // 1.5 mm below the bone surface
            for (int x = 0; x < SIZE; x++) {
                int top = (int) Math.floor(img.boneTopRow[x]);
                if (top + shadowStart + 8 > SIZE) {
                    continue;
                }
                for (int z = 8; z < top - 2; z++) {
                    above += img.gray[z * SIZE + x] & 0xff;
                    na++;
                }
                for (int z = top + shadowStart; z < SIZE; z++) {
                    below += img.gray[z * SIZE + x] & 0xff;
                    nb++;
                }
            }
            if (nb < 500) {
                continue;
            }
            double ratio = (below / nb) / (above / na);
            worst = Math.max(worst, ratio);
            sum += ratio;
            measured++;
        }
        System.out.printf(Locale.ROOT, "realism: mean gray under bone / above it: mean %.3f, worst %.3f over %d images%n",
                sum / measured, worst, measured);
        assertTrue(measured >= COUNT / 2, "too few images with shadow in view: " + measured);
        assertTrue(worst < 0.10, "shadow not dark enough: ratio " + worst);
    }

    @Test
    void fluidGivesPosteriorEnhancement() {
        int measured = 0, brighter = 0;
        double sumDb = 0;
        for (SimImage img : images) {
            if (img.recessDepthMm < 4 || img.recessArea() < 400) {
                continue;
            }
            boolean[] fluidColumn = new boolean[SIZE];
            int zMin = SIZE, zMax = 0;
            for (int z = 0; z < SIZE; z++) {
                for (int x = 0; x < SIZE; x++) {
                    if (img.label(z, x) == Tissue.RECESS) {
                        fluidColumn[x] = true;
                    }
                }
            }
            // prefemoral fat rows under the fluid, compared at the same rows beside it
            double under = 0, beside = 0;
            long nu = 0, nbes = 0;
            for (int z = 0; z < SIZE; z++) {
                for (int x = 0; x < SIZE; x++) {
                    if (img.label(z, x) != Tissue.PREFEMORAL_FAT) {
                        continue;
                    }
                    int g = img.gray[z * SIZE + x] & 0xff;
                    if (fluidColumn[x]) {
                        under += g;
                        nu++;
                    } else {
                        beside += g;
                        nbes++;
                    }
                }
            }
            if (nu < 300 || nbes < 300) {
                continue;
            }
            double db = (under / nu - beside / nbes) * img.dynamicRangeDb / 255;
            sumDb += db;
            brighter += db > 0 ? 1 : 0;
            measured++;
        }
        System.out.printf(Locale.ROOT, "realism: posterior enhancement %.1f dB on average, brighter in %d of %d images%n",
                sumDb / measured, brighter, measured);
        assertTrue(measured >= 8, "too few distended recesses to measure: " + measured);
        assertTrue(sumDb / measured > 3, "mean enhancement " + sumDb / measured + " dB");
        assertTrue(brighter >= 0.8 * measured, "enhancement in " + brighter + " of " + measured);
    }

    /**
     * Chessboard distance of each pixel to the nearest recess pixel ({@code inside = false}), or,
     * for recess pixels, to the nearest non-recess pixel ({@code inside = true}). Two-pass transform.
     */
    static int[] chessboardDistanceToRecess(SimImage img, boolean inside) {
        int h = img.height, w = img.width, inf = 1 << 20;
        int[] d = new int[h * w];
        byte recess = (byte) Tissue.RECESS.ordinal();
        for (int i = 0; i < d.length; i++) {
            boolean target = (img.labels[i] == recess) != inside;
            d[i] = target ? 0 : inf;
        }
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                int v = d[z * w + x];
                if (z > 0) {
                    v = Math.min(v, d[(z - 1) * w + x] + 1);
                    if (x > 0) v = Math.min(v, d[(z - 1) * w + x - 1] + 1);
                    if (x < w - 1) v = Math.min(v, d[(z - 1) * w + x + 1] + 1);
                }
                if (x > 0) v = Math.min(v, d[z * w + x - 1] + 1);
                d[z * w + x] = v;
            }
        }
        for (int z = h - 1; z >= 0; z--) {
            for (int x = w - 1; x >= 0; x--) {
                int v = d[z * w + x];
                if (z < h - 1) {
                    v = Math.min(v, d[(z + 1) * w + x] + 1);
                    if (x > 0) v = Math.min(v, d[(z + 1) * w + x - 1] + 1);
                    if (x < w - 1) v = Math.min(v, d[(z + 1) * w + x + 1] + 1);
                }
                if (x < w - 1) v = Math.min(v, d[z * w + x + 1] + 1);
                d[z * w + x] = v;
            }
        }
        return d;
    }
}
