package org.densecl.data.sim;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The convolution model of B-mode imaging, in baseband (I/Q), on a {@link Scene}:
 * <ol>
 *   <li>scatterer field: a complex Gaussian per pixel scaled by the tissue's echo amplitude, its
 *       texture and the round-trip attenuation down to that depth (per-tissue dB/(cm·MHz) times the
 *       frequency, and a transmission loss 1 - R at each interface, so bone leaves a shadow and fluid
 *       posterior enhancement); sparse tissues keep a scatterer in a fraction of pixels; electronic
 *       noise is added here as echo-independent scatterers, so it takes the PSF's grain;</li>
 *   <li>specular interface echoes: gain * |Z1 - Z2| / (Z1 + Z2) * |cos|^n, coherent along the
 *       interface, placed at sub-pixel depth;</li>
 *   <li>PSF: a Gaussian envelope, separable, axial sigma fixed, lateral sigma widening away from the
 *       focus (one kernel per image row), each kernel normalised to unit energy so fully developed
 *       speckle of a 0 dB tissue has E|A|^2 = 1 at every depth;</li>
 *   <li>envelope |A|, time-gain compensation, log compression to 8 bits with the gain set by a
 *       percentile of the image's levels.</li>
 * </ol>
 * Working in baseband avoids sampling the carrier: with random scatterer phases the envelope
 * statistics equal those of an RF simulation followed by a Hilbert envelope. One renderer per
 * thread; its buffers are reused between images.
 */
final class BModeRenderer {
    private static final int N = Tissue.COUNT;

    private float[][] field = new float[0][];     // (rows)(2 cols) complex scatterers, interleaved re/im
    private float[][] image = new float[0][];     // (height)(2 width) after the PSF
    private float[] atten = new float[0];         // (rows, cols) round-trip amplitude factor
    private float[] db = new float[0];            // (height, width) log intensity after TGC
    private float[] factor = new float[0];                       // (cols) running attenuation
    private byte[] prevLabel = new byte[0];                      // (cols)
    private final float[] amp = new float[N], density = new float[N], step = new float[N];
    private final float[] trans = new float[N * N], reflect = new float[N * N], phaseRe = new float[N], phaseIm = new float[N];
    private int[] histogram = new int[0];
    private final Psf psf = new Psf();

    /** Per-image draws of each tissue's echo level and density, and the derived physics tables. */
    void prepare(SimulatorConfig cfg, Acquisition acq, SplittableRandom rng) {
        double dzCm = acq.pxMm() / 10;
        for (Tissue t : Tissue.values()) {
            var p = cfg.tissues().of(t);
            int i = t.ordinal();
            amp[i] = (float) StrictMath.pow(10, p.echoDb().sample(rng) / 20);
            density[i] = (float) p.density().sample(rng);
            // round trip through one pixel: 2 * alpha * f0 * dz dB of amplitude
            step[i] = (float) StrictMath.pow(10, -2 * p.attenuation() * acq.frequencyMhz() * dzCm / 20);
            double phase = 2 * Math.PI * rng.nextDouble();
            phaseRe[i] = (float) StrictMath.cos(phase);
            phaseIm[i] = (float) StrictMath.sin(phase);
        }
        amp[Tissue.GEL.ordinal()] = 0; // gel and the probe face carry no scatterers
        for (Tissue a : Tissue.values()) {
            for (Tissue b : Tissue.values()) {
                double za = cfg.tissues().of(a).impedance(), zb = cfg.tissues().of(b).impedance();
                double r = (za - zb) / (za + zb);
                // amplitude echo of the interface; a round trip crosses it twice: (1 - R) in amplitude
                reflect[a.ordinal() * N + b.ordinal()] = (float) (acq.specularGain() * Math.abs(r));
                trans[a.ordinal() * N + b.ordinal()] = (float) (1 - r * r);
            }
        }
    }

    /**
     * Renders the scene to 8-bit gray (height, width); when {@code envelope} is non-null it also
     * receives the envelope after TGC and before log compression, the statistics test hook.
     */
    void render(Scene s, Acquisition acq, SplittableRandom rng, byte[] gray, float[] envelope) {
        ensure(s);
        scatterers(s, acq, rng);
        interfaces(s);
        psf.convolve(s, acq, field, image);
        logCompress(s, acq, gray, envelope);
    }

    private void ensure(Scene s) {
        int n = s.rows * s.cols;
        if (atten.length < n) {
            atten = new float[n];
        }
        if (field.length < s.rows || field[0].length < 2 * s.cols) {
            field = new float[s.rows][2 * s.cols];
        }
        if (image.length < s.height || image[0].length < 2 * s.width) {
            image = new float[s.height][2 * s.width];
            db = new float[s.height * s.width];
        }
        if (factor.length < s.cols) {
            factor = new float[s.cols];
            prevLabel = new byte[s.cols];
        }
    }

    /** Scatterer field with attenuation and noise; parallel axis: none (one image per thread). */
    private void scatterers(Scene s, Acquisition acq, SplittableRandom rng) {
        Arrays.fill(factor, 0, s.cols, 1f);
        Arrays.fill(prevLabel, 0, s.cols, (byte) Tissue.GEL.ordinal());
        float noise = (float) acq.noisePower();
        float[] table = Gaussians.TABLE;
        long bits = 0;
        int left = 0; // 16-bit fields left in `bits`, each giving one table index
        for (int r = 0; r < s.rows; r++) {
            int base = r * s.cols;
            float[] row = field[r];
            for (int c = 0; c < s.cols; c++) {
                int i = base + c;
                int lab = s.labels[i];
                if (lab != prevLabel[c]) {
                    factor[c] *= trans[prevLabel[c] * N + lab];
                    prevLabel[c] = (byte) lab;
                }
                float f = factor[c];
                atten[i] = f;
                factor[c] = f * step[lab];
                float a = amp[lab] * s.texture[i] * f;
                float d = density[lab];
                if (d < 1f) {
                    // sparse scatterers: fewer but stronger, so the mean echo level stays amp^2
                    a = rng.nextDouble() < d ? a / (float) Math.sqrt(d) : 0f;
                }
                float sd = (float) Math.sqrt(a * a + noise);
                if (left == 0) {
                    bits = rng.nextLong();
                    left = 4;
                }
                int idx = ((int) bits & Gaussians.TABLE_MASK) << 1;
                bits >>>= 16;
                left--;
                row[2 * c] = sd * table[idx];
                row[2 * c + 1] = sd * table[idx + 1];
            }
        }
    }

    /** Coherent specular echoes, split linearly between the two rows around the sub-pixel depth. */
    private void interfaces(Scene s) {
        for (int c = 0; c < s.cols; c++) {
            for (int k = 0; k < s.ifCount[c]; k++) {
                int j = c * Scene.MAX_INTERFACES + k;
                float row = s.ifRow[j];
                int r0 = (int) Math.floor(row);
                float w1 = row - r0;
                int above = s.ifAbove[j], below = s.ifBelow[j];
                if (r0 < 0 || r0 + 1 >= s.rows) {
                    continue;
                }
                float a = reflect[above * N + below] * s.ifCos[j] * atten[r0 * s.cols + c];
                float ar = a * phaseRe[below], ai = a * phaseIm[below];
                field[r0][2 * c] += ar * (1 - w1);
                field[r0][2 * c + 1] += ai * (1 - w1);
                field[r0 + 1][2 * c] += ar * w1;
                field[r0 + 1][2 * c + 1] += ai * w1;
            }
        }
    }

    /** Envelope, TGC, and log compression with the gain set by the refPercentile of the dB levels. */
    private void logCompress(Scene s, Acquisition acq, byte[] gray, float[] envelope) {
        int h = s.height, w = s.width;
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        for (int z = 0; z < h; z++) {
            float tgc = (float) acq.tgcDb(z, h);
            float tgcAmp = envelope == null ? 0f : (float) StrictMath.pow(10, tgc / 20);
            float[] row = image[z];
            for (int x = 0; x < w; x++) {
                int i = z * w + x;
                float intensity = Math.max(row[2 * x] * row[2 * x] + row[2 * x + 1] * row[2 * x + 1], 1e-30f);
                if (envelope != null) {
                    envelope[i] = (float) Math.sqrt(intensity) * tgcAmp;
                }
                float v = 3.0103f * FastLog.log2(intensity) + tgc; // 10 log10(I) = 10 log10(2) log2(I)
                db[i] = v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        // percentile from a 0.1 dB histogram
        float binDb = 0.1f;
        int bins = Math.min(8192, (int) ((hi - lo) / binDb) + 2);
        if (histogram.length < bins) {
            histogram = new int[bins];
        }
        Arrays.fill(histogram, 0, bins, 0);
        float scale = (bins - 1) / Math.max(hi - lo, 1e-6f);
        for (int i = 0; i < h * w; i++) {
            histogram[(int) ((db[i] - lo) * scale)]++;
        }
        long target = (long) Math.ceil(acq.refPercentile() * h * w);
        long seen = 0;
        int bin = 0;
        while (bin < bins - 1 && (seen += histogram[bin]) < target) {
            bin++;
        }
        float refDb = lo + (bin + 0.5f) / scale;
        float dr = (float) acq.dynamicRangeDb();
        float floorDb = refDb - dr * (float) acq.refGray() / 255f;
        float k = 255f / dr;
        for (int i = 0; i < h * w; i++) {
            float v = (db[i] - floorDb) * k;
            v = v < 0f ? 0f : v > 255f ? 255f : v;
            gray[i] = (byte) (int) (v + 0.5f); // round half up; v >= 0
        }
    }
}
