package org.densecl.data.sim;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.densecl.data.Range;
import org.densecl.data.YamlConfig;

/**
 * Every parameter of the knee ultrasound simulator, one record per section of
 * {@code configs/simulator.yaml}; that file documents each key and holds the defaults (none live in
 * code). A {@link Range} is drawn anew for every image. Units: mm, MHz, dB, dB/(cm·MHz), MRayl.
 */
public record SimulatorConfig(Probe probe, Scanner scanner, Anatomy anatomy, Recess recess, Texture texture,
                              Tissues tissues, Split split) {

    /** Where the committed defaults live, relative to the project root. */
    public static final String DEFAULT_PATH = "configs/simulator.yaml";

    /** Transducer and beam: resolution, focus, centre frequency, probe tilt. */
    public record Probe(Range depthMm, Range frequencyMhz, Range axialFwhmMm, Range lateralFwhmMm,
                        Range focusDepth, Range rayleighLengthMm, Range tiltDeg) {}

    /** Receive chain: noise floor, time-gain compensation, specular echoes, log compression. */
    public record Scanner(Range noiseDb, double tgcAttenuation, Range tgcErrorDb, double maxTgcDb, Range dynamicRangeDb,
                          double refPercentile, Range refGray, double specularGain, double specularExponent) {}

    /** Layer thicknesses and shapes of the suprapatellar view (all in mm). */
    public record Anatomy(Range gelMm, Range skinMm, Range subcutFatMm, Range tendonMm, Range muscleGapMm,
                          Range prefemoralFatMm, Range cortexMm, Range femurCurvatureMm, Range wobbleMm,
                          Range patellaPosition, Range patellaPoleDepth, Range patellaRoundingMm,
                          Range quadFatPadMm, Range quadFatPadLengthMm, double minShadowMm, double minFatMm) {}

    /** The suprapatellar recess: presence, size, shape, fluid content. */
    public record Recess(double absentProbability, Range depthMm, Range lengthMm, double minAspect, Range center,
                         Range taper, Range lobulation, Range bulge, Range sink, Range debrisDb, double minDepthMm) {}

    /** Tissue structure: slow gain inhomogeneity, tendon fibrils and anisotropy, fat and muscle septa. */
    public record Texture(Range inhomogeneityDb, double inhomogeneityCellMm, Range fibrilDb, double fibrilPeriodMm,
                          double anisotropyExponent, Range fatSepta, Range muscleSepta, Range septaDb,
                          double debrisCellMm) {}

    /** Acoustic properties per label; the keys follow {@link Tissue}. */
    public record Tissues(TissueParams gel, TissueParams skin, TissueParams subcutFat, TissueParams tendon,
                          TissueParams quadFatPad, TissueParams muscle, TissueParams recess,
                          TissueParams prefemoralFat, TissueParams cortex, TissueParams bone,
                          TissueParams patella) {

        public TissueParams of(Tissue t) {
            return switch (t) {
                case GEL -> gel;
                case SKIN -> skin;
                case SUBCUT_FAT -> subcutFat;
                case TENDON -> tendon;
                case QUAD_FAT_PAD -> quadFatPad;
                case MUSCLE -> muscle;
                case RECESS -> recess;
                case PREFEMORAL_FAT -> prefemoralFat;
                case CORTEX -> cortex;
                case BONE -> bone;
                case PATELLA -> patella;
            };
        }
    }

    /**
     * One tissue: mean backscatter (dB relative to the prefemoral fat pad's nominal level), scatterer
     * density (fraction of pixels holding a scatterer; 1 = fully developed speckle), attenuation in
     * dB/(cm·MHz), acoustic impedance in MRayl.
     */
    public record TissueParams(Range echoDb, Range density, double attenuation, double impedance) {}

    /** Fractions of a labeled run that go to train / val / test. */
    public record Split(double train, double val, double test) {}

    /** Reads and checks a config file; {@code overrides} are {@code section.key=value} strings. */
    public static SimulatorConfig load(Path file, List<String> overrides) {
        SimulatorConfig c = YamlConfig.read(file, SimulatorConfig.class, overrides);
        c.validate(file.toString());
        return c;
    }

    /** The committed defaults: {@value #DEFAULT_PATH} under the working directory or the project root. */
    public static Path locateDefault() {
        Path here = Path.of(DEFAULT_PATH);
        if (Files.isRegularFile(here)) {
            return here;
        }
        try {
            // target/classes -> project root, when run from a build tree outside the project folder
            Path classes = Path.of(SimulatorConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path root = classes.getParent() == null ? null : classes.getParent().getParent();
            if (root != null && Files.isRegularFile(root.resolve(DEFAULT_PATH))) {
                return root.resolve(DEFAULT_PATH);
            }
        } catch (Exception ignored) {
            // fall through to the error below, which says what was looked for
        }
        throw new IllegalArgumentException("default simulator config not found: looked for " + DEFAULT_PATH
                + " in the working directory and the project root; pass --config FILE");
    }

    private void validate(String src) {
        String p = src + ": ";
        probe.depthMm().require(p + "probe.depthMm", 5, 200);
        probe.frequencyMhz().require(p + "probe.frequencyMhz", 0.5, 50);
        probe.axialFwhmMm().require(p + "probe.axialFwhmMm", 0.01, 5);
        probe.lateralFwhmMm().require(p + "probe.lateralFwhmMm", 0.01, 10);
        probe.focusDepth().require(p + "probe.focusDepth", 0, 1);
        probe.rayleighLengthMm().require(p + "probe.rayleighLengthMm", 0.5, 1000);
        probe.tiltDeg().require(p + "probe.tiltDeg", -30, 30);
        scanner.dynamicRangeDb().require(p + "scanner.dynamicRangeDb", 10, 120);
        scanner.refGray().require(p + "scanner.refGray", 1, 254);
        if (!(scanner.refPercentile() > 0 && scanner.refPercentile() < 1)) {
            throw new IllegalArgumentException(p + "scanner.refPercentile must be in (0, 1), got " + scanner.refPercentile());
        }
        if (recess.absentProbability() < 0 || recess.absentProbability() > 1) {
            throw new IllegalArgumentException(p + "recess.absentProbability must be in [0, 1]");
        }
        recess.center().require(p + "recess.center", -1, 2);
        anatomy.patellaPoleDepth().require(p + "anatomy.patellaPoleDepth", 0, 1);
        for (Tissue t : Tissue.values()) {
            TissueParams tp = tissues.of(t);
            tp.density().require(p + "tissues." + t + ".density", 0, 1);
            if (tp.attenuation() < 0 || tp.impedance() <= 0) {
                throw new IllegalArgumentException(p + "tissues." + t + ": attenuation must be >= 0 and impedance > 0");
            }
        }
        double s = split.train() + split.val() + split.test();
        if (split.train() < 0 || split.val() < 0 || split.test() < 0 || Math.abs(s - 1) > 1e-6) {
            throw new IllegalArgumentException(p + "split fractions must be >= 0 and sum to 1, got " + s);
        }
    }
}
