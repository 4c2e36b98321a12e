package org.densecl.data.sim;

import java.util.SplittableRandom;

/**
 * The probe and scanner settings drawn for one image, converted to pixels: PSF widths, focus,
 * frequency, noise floor, TGC and log compression. Pixel pitch comes from the anatomy (the depth may
 * grow to keep the femur in view), so this is built after {@link KneeGeometry}.
 */
record Acquisition(double pxMm, double frequencyMhz, double sigmaZ, double sigmaX0, double focusRow,
                   double rayleighRows, double noisePower, double tgcDbPerRow, double tgcErrorDb,
                   double maxTgcDb, double dynamicRangeDb, double refPercentile, double refGray, double specularGain,
                   double specularExponent) {

    /** FWHM = 2 sqrt(2 ln 2) sigma for a Gaussian. */
    static final double FWHM_PER_SIGMA = 2 * Math.sqrt(2 * StrictMath.log(2));

    static Acquisition sample(SimulatorConfig c, SplittableRandom rng, double pxMm, int height) {
        var p = c.probe();
        var s = c.scanner();
        double depthCm = pxMm * height / 10;
        // a deep view is scanned at a lower frequency, so the TGC needed at the bottom stays in range
        double f0 = Math.min(p.frequencyMhz().sample(rng), s.maxTgcDb() / (2 * s.tgcAttenuation() * depthCm));
        double sigmaZ = p.axialFwhmMm().sample(rng) / FWHM_PER_SIGMA / pxMm;
        double sigmaX0 = p.lateralFwhmMm().sample(rng) / FWHM_PER_SIGMA / pxMm;
        double focusRow = p.focusDepth().sample(rng) * height;
        double zR = p.rayleighLengthMm().sample(rng) / pxMm;
        double noise = StrictMath.pow(10, s.noiseDb().sample(rng) / 10);
        // TGC undoes the round trip attenuation it assumes: 2 * alpha * f0 dB per cm of depth.
        double tgcPerRow = 2 * s.tgcAttenuation() * f0 * pxMm / 10;
        return new Acquisition(pxMm, f0, sigmaZ, sigmaX0, focusRow, zR, noise, tgcPerRow,
                s.tgcErrorDb().sample(rng), s.maxTgcDb(), s.dynamicRangeDb().sample(rng), s.refPercentile(),
                s.refGray().sample(rng), s.specularGain(), s.specularExponent());
    }

    /** Lateral PSF sigma (pixels) at image row z: a Gaussian beam widening away from the focus. */
    double sigmaX(double row) {
        double d = (row - focusRow) / rayleighRows;
        return sigmaX0 * Math.sqrt(1 + d * d);
    }

    /** TGC gain in dB at image row z: the nominal slope plus a linear mismatch ramp, capped at maxTgcDb. */
    double tgcDb(int row, int height) {
        return Math.min(maxTgcDb, tgcDbPerRow * (row + 0.5) + tgcErrorDb * (row + 0.5) / height);
    }
}
