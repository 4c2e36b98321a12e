package org.densecl.data.sim;

import java.util.SplittableRandom;

/**
 * The sampled anatomy of one longitudinal suprapatellar view, as continuous layer boundaries in mm:
 * for a lateral position x (mm from the left image edge; cranial is left, the patella sits towards the
 * right) {@link #column} gives the depth at which each tissue of {@link #SEGMENTS} begins. Shapes:
 * layers nest over a femur arc and are sheared by the probe tilt in proportion to depth; each interface
 * wobbles slowly; the recess is a fusiform lens between the quadriceps fat pad and the prefemoral fat
 * pad whose distension pushes the tendon up (the fat absorbs it); the patella's rounded upper pole
 * rises from between tendon and femur up to the tendon and replaces everything below its surface.
 */
final class KneeGeometry {
    /** The tissue that begins at each boundary of {@link #column}'s output, top to bottom. */
    static final Tissue[] SEGMENTS = {Tissue.SKIN, Tissue.SUBCUT_FAT, Tissue.TENDON, Tissue.QUAD_FAT_PAD,
        Tissue.MUSCLE, Tissue.RECESS, Tissue.PREFEMORAL_FAT, Tissue.CORTEX, Tissue.BONE, Tissue.PATELLA};
    static final int BOUNDARIES = SEGMENTS.length;
    private static final int WOBBLES = 6; // gel/skin, fat, tendon top, tendon bottom, prefemoral pad, femur

    final double depthMm;   // displayed depth (image height)
    final double widthMm;   // field of view (image width)
    final double pxMm;      // pixel pitch, equal along both axes
    final boolean recessPresent;
    final double recessDepthMm; // sampled maximum fluid depth (0 when absent)
    final double recessLengthMm;
    final double patellaX;      // upper pole position, mm

    private final double gel, skin, fat, tendon, prefemoral, cortex, minFat;
    private final double curvature, arcCentre, tilt, femurDepth;
    private final double[] wobAmp = new double[2 * WOBBLES], wobK = new double[2 * WOBBLES], wobPhase = new double[2 * WOBBLES];
    private final double poleFraction, rounding, padMax, padLength;
    private final double recessCentre, taperLeft, taperRight, lobulation, lobK, lobPhase, bulge, sink, minRecess;

    KneeGeometry(SimulatorConfig c, SplittableRandom rng, int height, int width) {
        var a = c.anatomy();
        var r = c.recess();
        gel = a.gelMm().sample(rng);
        skin = a.skinMm().sample(rng);
        fat = a.subcutFatMm().sample(rng);
        tendon = a.tendonMm().sample(rng);
        double muscleGap = a.muscleGapMm().sample(rng);
        prefemoral = a.prefemoralFatMm().sample(rng);
        cortex = a.cortexMm().sample(rng);
        curvature = a.femurCurvatureMm().sample(rng);
        arcCentre = 0.2 + 0.6 * rng.nextDouble();
        tilt = StrictMath.tan(StrictMath.toRadians(c.probe().tiltDeg().sample(rng)));
        minFat = a.minFatMm();
        double wobble = a.wobbleMm().sample(rng);
        for (int i = 0; i < 2 * WOBBLES; i++) {
            wobAmp[i] = wobble * rng.nextDouble() * (i % 2 == 0 ? 1.0 : 0.5);
            wobK[i] = 2 * Math.PI / (8 + 32 * rng.nextDouble()); // wavelengths 8-40 mm
            wobPhase[i] = 2 * Math.PI * rng.nextDouble();
        }
        double patellaFraction = a.patellaPosition().sample(rng);
        poleFraction = a.patellaPoleDepth().sample(rng);
        rounding = a.patellaRoundingMm().sample(rng);
        padMax = a.quadFatPadMm().sample(rng);
        padLength = a.quadFatPadLengthMm().sample(rng);

        recessPresent = rng.nextDouble() >= r.absentProbability();
        recessDepthMm = recessPresent ? r.depthMm().sample(rng) : 0;
        recessLengthMm = Math.max(r.lengthMm().sample(rng), r.minAspect() * recessDepthMm);
        double centreFraction = r.center().sample(rng);
        taperLeft = r.taper().sample(rng);
        taperRight = r.taper().sample(rng);
        lobulation = r.lobulation().sample(rng);
        lobK = 0.5 + 1.5 * rng.nextDouble();
        lobPhase = 2 * Math.PI * rng.nextDouble();
        bulge = r.bulge().sample(rng);
        sink = Math.min(r.sink().sample(rng), 1 - bulge);
        minRecess = r.minDepthMm();

        // The femur lies deep enough for the whole stack with the pad, a muscle gap and the part of
        // the fluid that does not push the layers up; the depth grows to keep a shadow in view.
        femurDepth = gel + skin + fat + tendon + padMax + muscleGap + prefemoral
                + (1 - bulge - sink) * recessDepthMm + Math.max(curvature, 0);
        double depth = c.probe().depthMm().sample(rng);
        double need = femurDepth + 1.6 * Math.abs(curvature) + 2 * wobble + cortex + a.minShadowMm();
        double tiltReach = Math.abs(tilt) * 0.5 * depth * width / height; // femur drop at the image edge
        depthMm = Math.max(depth, need + tiltReach);
        pxMm = depthMm / height;
        widthMm = pxMm * width;
        patellaX = patellaFraction * widthMm;
        recessCentre = centreFraction * widthMm;
    }

    /**
     * Fills {@code tops[k]} with the depth (mm) at which {@code SEGMENTS[k]} begins at lateral
     * position {@code x} (mm); depths never decrease with k, and an empty tissue has the same top as
     * the next one. Above tops[0] is gel. The patella entry is +infinity where there is no patella.
     */
    void column(double x, double[] tops) {
        double half = 0.5 * widthMm;
        double arc = -curvature * (1 - sq((x - arcCentre * widthMm) / half));
        double deform = tilt * (x - half) + arc; // full at the femur, zero at the skin

        double skinTop = Math.max(0, gel + wob(0, x));
        double skinBot = skinTop + skin;
        double fatBot = skinBot + fat + wob(1, x) + deform * (skinBot + fat) / femurDepth;
        double tendonBot = fatBot + tendon + wob(2, x) + deform * tendon / femurDepth;
        double femur = femurDepth + deform + wob(5, x);
        double pad = quadPad(x);
        double fluid = recess(x);
        // the fat pad over the femur gives way to a share of the fluid, keeping 40 % of its thickness
        double pfTop = femur - Math.max(0.4 * prefemoral, prefemoral - sink * fluid) - wob(4, x);
        double recTop = pfTop - fluid;

        // A distended recess pushes the tendon towards the probe; the subcutaneous fat gives way
        // first, then the fat pad. What still does not fit shrinks the fluid (the clamp below).
        double deficit = tendonBot + pad - recTop;
        if (deficit > 0) {
            double up = Math.min(deficit, Math.max(0, fatBot - skinBot - minFat));
            fatBot -= up;
            tendonBot -= up;
            pad = Math.max(0, pad - (deficit - up));
        }
        tops[0] = skinTop;
        tops[1] = skinBot;
        tops[2] = fatBot;
        tops[3] = tendonBot;
        tops[4] = tendonBot + pad;
        tops[5] = recTop;
        tops[6] = pfTop;
        tops[7] = femur;
        tops[8] = femur + cortex;
        tops[9] = patellaSurface(x, tendonBot, femur);
        for (int k = 1; k < BOUNDARIES - 1; k++) {
            tops[k] = Math.max(tops[k], tops[k - 1]);
        }
        for (int k = 0; k < BOUNDARIES - 1; k++) {
            tops[k] = Math.min(tops[k], tops[9]);
        }
    }

    /** Thickness of the quadriceps fat pad wedge: grows towards the patella's upper pole. */
    private double quadPad(double x) {
        double t = (x - (patellaX - padLength)) / padLength;
        if (t <= 0) {
            return 0;
        }
        return padMax * StrictMath.pow(Math.min(t, 1), 0.7);
    }

    /** Fluid depth of the fusiform recess at x: (1 - |u|^taper)^0.8, with lobulated walls. */
    private double recess(double x) {
        if (!recessPresent) {
            return 0;
        }
        double u = (x - recessCentre) / (0.5 * recessLengthMm);
        double au = Math.abs(u);
        if (au >= 1) {
            return 0;
        }
        double shape = StrictMath.pow(1 - StrictMath.pow(au, u < 0 ? taperLeft : taperRight), 0.8);
        double d = recessDepthMm * shape * (1 + lobulation * StrictMath.sin(Math.PI * lobK * u + lobPhase));
        return d < minRecess ? 0 : d;
    }

    /** Depth of the patella's anterior surface: a quarter ellipse from the pole up to the tendon. */
    private double patellaSurface(double x, double tendonBot, double femur) {
        if (x < patellaX) {
            return Double.POSITIVE_INFINITY;
        }
        double t = Math.min(1, (x - patellaX) / rounding);
        double top = tendonBot + 0.3;
        double pole = tendonBot + poleFraction * Math.max(0, femur - tendonBot);
        return top + (pole - top) * (1 - Math.sqrt(1 - sq(1 - t)));
    }

    private double wob(int i, double x) {
        return wobAmp[2 * i] * StrictMath.sin(wobK[2 * i] * x + wobPhase[2 * i])
                + wobAmp[2 * i + 1] * StrictMath.sin(wobK[2 * i + 1] * x + wobPhase[2 * i + 1]);
    }

    private static double sq(double v) {
        return v * v;
    }
}
