package org.densecl.data.sim;

import java.util.SplittableRandom;

/**
 * The simulator's entry point: image {@code index} of a run with {@code seed} is drawn from a random
 * source seeded by a hash of (seed, index) only, so it is the same whichever thread makes it, in
 * whatever order, and alone or in a batch. Steps: anatomy ({@link KneeGeometry}), probe and scanner
 * settings ({@link Acquisition}), label map and texture ({@link SceneBuilder}), B-mode
 * ({@link BModeRenderer}). Not thread-safe: one instance per thread (it keeps its buffers).
 */
public final class KneeSimulator {
    private final SimulatorConfig config;
    private final Scene scene = new Scene();
    private final SceneBuilder builder = new SceneBuilder();
    private final BModeRenderer renderer = new BModeRenderer();

    public KneeSimulator(SimulatorConfig config) {
        this.config = config;
    }

    public SimulatorConfig config() {
        return config;
    }

    /** A new image of size x size. */
    public SimImage generate(long seed, long index, int size) {
        SimImage out = new SimImage(size, size, false);
        generate(seed, index, out);
        return out;
    }

    /** Draws image (seed, index) into {@code out} (its size decides the image size). */
    public void generate(long seed, long index, SimImage out) {
        SplittableRandom rng = new SplittableRandom(mix(seed, index));
        KneeGeometry g = new KneeGeometry(config, rng, out.height, out.width);
        Acquisition acq = Acquisition.sample(config, rng, g.pxMm, out.height);
        int padZ = Psf.radius(acq.sigmaZ());
        int padX = Psf.lateralRadius(acq, out.height, padZ);
        scene.reset(out.height, out.width, padZ, padX, g.pxMm);
        builder.draw(g, acq, config, rng, scene);
        renderer.prepare(config, acq, rng);
        renderer.render(scene, acq, rng, out.gray, out.envelope);
        scene.cropLabels(out.labels);
        System.arraycopy(scene.boneTopRow, 0, out.boneTopRow, 0, out.width);
        out.seed = seed;
        out.index = index;
        out.pxMm = g.pxMm;
        out.depthMm = g.depthMm;
        out.frequencyMhz = acq.frequencyMhz();
        out.dynamicRangeDb = acq.dynamicRangeDb();
        out.recessPresent = g.recessPresent;
        out.recessDepthMm = g.recessDepthMm;
    }

    /** A well-mixed 64-bit seed from (seed, index) ({@link org.densecl.data.Seeds#mix}). */
    public static long mix(long seed, long index) {
        return org.densecl.data.Seeds.mix(seed, index);
    }
}
