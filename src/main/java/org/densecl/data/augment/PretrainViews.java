package org.densecl.data.augment;

import java.util.SplittableRandom;
import org.densecl.data.io.GrayImage;

/**
 * The pretraining view pipeline (MoCo v2 / DenseCL, for gray ultrasound): random resized crop,
 * colour jitter reduced to brightness and contrast (p), Gaussian blur (p), horizontal flip, then
 * normalisation into (size, size, channels) floats. DenseCL applies the same pipeline twice per
 * image with independent draws (two views). Grayscale conversion is a no-op here, so it is left out.
 * Stateless and thread-safe; the caller passes the random source.
 */
public final class PretrainViews {
    private final AugmentConfig.Pretrain cfg;

    public PretrainViews(AugmentConfig.Pretrain cfg) {
        this.cfg = cfg;
    }

    /** Floats per view: size * size * channels. */
    public int viewLength() {
        return cfg.size() * cfg.size() * cfg.channels();
    }

    public AugmentConfig.Pretrain config() {
        return cfg;
    }

    /** One augmented view of {@code img}, written as (size, size, channels) at out[offset...]. */
    public void view(GrayImage img, SplittableRandom rng, float[] out, int offset) {
        int[] box = cropBox(img.height(), img.width(), rng);
        GrayImage v = Resample.region(img, box[0], box[1], box[2], box[3], cfg.size(), cfg.size());
        if (rng.nextDouble() < cfg.jitterProbability()) {
            jitter(v.pixels(), rng);
        }
        if (rng.nextDouble() < cfg.blurProbability()) {
            v = GaussianBlur.apply(v, cfg.blurSigma().sample(rng));
        }
        boolean flip = rng.nextDouble() < cfg.flipProbability();
        Normalize.write(v, flip, (float) cfg.mean(), (float) cfg.std(), cfg.channels(), out, offset);
    }

    /**
     * torchvision's RandomResizedCrop.get_params: up to 10 tries of an area fraction from cropScale and
     * a log-uniform aspect ratio; if none fits, a centre crop with the ratio clamped to cropRatio.
     * Returns {top, left, height, width}.
     */
    int[] cropBox(int h, int w, SplittableRandom rng) {
        double area = (double) h * w;
        double logLo = Math.log(cfg.cropRatio().lo()), logHi = Math.log(cfg.cropRatio().hi());
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * cfg.cropScale().sample(rng);
            double ratio = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
            int cw = (int) Math.round(Math.sqrt(target * ratio));
            int ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                int top = rng.nextInt(h - ch + 1), left = rng.nextInt(w - cw + 1);
                return new int[] {top, left, ch, cw};
            }
        }
        double inRatio = (double) w / h;
        int cw, ch;
        if (inRatio < cfg.cropRatio().lo()) {
            cw = w;
            ch = (int) Math.round(w / cfg.cropRatio().lo());
        } else if (inRatio > cfg.cropRatio().hi()) {
            ch = h;
            cw = (int) Math.round(h * cfg.cropRatio().hi());
        } else {
            cw = w;
            ch = h;
        }
        return new int[] {(h - ch) / 2, (w - cw) / 2, ch, cw};
    }

    /** torchvision ColorJitter for gray: brightness and contrast factors, in random order, clamped. */
    private void jitter(float[] px, SplittableRandom rng) {
        double b = 1 + cfg.brightness() * (2 * rng.nextDouble() - 1);
        double c = 1 + cfg.contrast() * (2 * rng.nextDouble() - 1);
        boolean brightnessFirst = rng.nextBoolean();
        for (int step = 0; step < 2; step++) {
            if ((step == 0) == brightnessFirst) {
                Photometric.scale(px, (float) b);
            } else {
                Photometric.contrast(px, (float) c);
            }
        }
    }
}
