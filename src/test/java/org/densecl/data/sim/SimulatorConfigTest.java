package org.densecl.data.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator config is read strictly: every mistake names the key and the file. */
class SimulatorConfigTest {
    static final Path DEFAULTS = Path.of(SimulatorConfig.DEFAULT_PATH);

    @TempDir
    Path dir;

    @Test
    void defaultsLoadAndAreFound() {
        SimulatorConfig c = SimulatorConfig.load(DEFAULTS, List.of());
        assertEquals(0.7, c.split().train(), 1e-12);
        assertTrue(c.probe().frequencyMhz().lo() > 0);
        assertEquals(DEFAULTS.toAbsolutePath().normalize(), SimulatorConfig.locateDefault().toAbsolutePath().normalize());
    }

    @Test
    void unknownKeyNamesKeyAndFile() throws IOException {
        Path f = copyWith("  tiltDeg: [-7, 7]", "  tiltDeg: [-7, 7]\n  tiltDegrees: 3");
        var e = assertThrows(IllegalArgumentException.class, () -> SimulatorConfig.load(f, List.of()));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("probe.tiltDegrees"), e.getMessage());
    }

    @Test
    void unknownTissueIsAnError() throws IOException {
        Path f = copyWith("tissues:\n", "tissues:\n  cartilage: {echoDb: 0, density: 1, attenuation: 1, impedance: 1.6}\n");
        var e = assertThrows(IllegalArgumentException.class, () -> SimulatorConfig.load(f, List.of()));
        assertTrue(e.getMessage().contains("tissues.cartilage"), e.getMessage());
    }

    @Test
    void missingKeyIsAnError() throws IOException {
        Path f = copyWith("  minFatMm: 1.0 ", "  #minFatMm: 1.0 ");
        var e = assertThrows(IllegalArgumentException.class, () -> SimulatorConfig.load(f, List.of()));
        assertTrue(e.getMessage().contains("minFatMm") && e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void badRangeAndBadValuesAreErrors() throws IOException {
        Path f = copyWith("  depthMm: [30, 40]", "  depthMm: [40, 30]");
        var e = assertThrows(IllegalArgumentException.class, () -> SimulatorConfig.load(f, List.of()));
        assertTrue(e.getMessage().contains("probe.depthMm") && e.getMessage().contains("lo <= hi"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> SimulatorConfig.load(DEFAULTS, List.of("split.train=0.9")));
        assertTrue(e2.getMessage().contains("sum to 1"), e2.getMessage());
    }

    @Test
    void overridesReplaceExistingKeysOnly() {
        SimulatorConfig c = SimulatorConfig.load(DEFAULTS, List.of("recess.absentProbability=1", "probe.tiltDeg=[0, 0]"));
        assertEquals(1.0, c.recess().absentProbability());
        assertEquals(0.0, c.probe().tiltDeg().hi());
        var e = assertThrows(IllegalArgumentException.class,
                () -> SimulatorConfig.load(DEFAULTS, List.of("recess.absentProb=1")));
        assertTrue(e.getMessage().contains("absentProb"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SimulatorConfig.load(DEFAULTS, List.of("nosection.x=1")));
        assertThrows(IllegalArgumentException.class, () -> SimulatorConfig.load(DEFAULTS, List.of("noequals")));
    }

    @Test
    void missingFileIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> SimulatorConfig.load(dir.resolve("nope.yaml"), List.of()));
        assertTrue(e.getMessage().contains("nope.yaml"), e.getMessage());
    }

    private Path copyWith(String find, String replace) throws IOException {
        String text = Files.readString(DEFAULTS);
        assertTrue(text.contains(find), "defaults no longer contain '" + find + "'");
        Path f = dir.resolve("sim.yaml");
        Files.writeString(f, text.replace(find, replace));
        return f;
    }
}
