package org.densecl.data.sim;

import java.util.SplittableRandom;

/**
 * A homogeneous speckle phantom rendered by the simulator's own B-mode path: one tissue filling the
 * whole grid, plain texture, no interfaces, TGC matched to the tissue's attenuation and a noise floor
 * far below the echoes. Fully developed speckle, so the first and second order statistics have
 * closed-form values to compare against.
 */
final class Phantom {
    static final Tissue TISSUE = Tissue.PREFEMORAL_FAT;

    private Phantom() {}

    /** Acquisition with the given PSF (pixels), focus row and Rayleigh length (rows). */
    static Acquisition acquisition(SimulatorConfig cfg, double sigmaZ, double sigmaX0, double focusRow, double zR) {
        double px = 0.15, f0 = 10;
        double alpha = cfg.tissues().of(TISSUE).attenuation();
        return new Acquisition(px, f0, sigmaZ, sigmaX0, focusRow, zR, 1e-12, 2 * alpha * f0 * px / 10, 0,
                1e9, 60, 0.5, 128, cfg.scanner().specularGain(), cfg.scanner().specularExponent());
    }

    static SimImage render(SimulatorConfig cfg, Acquisition acq, long seed, int size) {
        SimImage out = new SimImage(size, size, true);
        SplittableRandom rng = new SplittableRandom(seed);
        Scene s = new Scene();
        int padZ = Psf.radius(acq.sigmaZ());
        s.reset(size, size, padZ, Psf.lateralRadius(acq, size, padZ), acq.pxMm());
        java.util.Arrays.fill(s.labels, 0, s.rows * s.cols, (byte) TISSUE.ordinal());
        BModeRenderer r = new BModeRenderer();
        r.prepare(cfg, acq, rng);
        r.render(s, acq, rng, out.gray, out.envelope);
        s.cropLabels(out.labels);
        return out;
    }
}
