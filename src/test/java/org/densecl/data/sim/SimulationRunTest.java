package org.densecl.data.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.densecl.data.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data set writer: layout, masks read back from disk, manifest, thread independence. */
class SimulationRunTest {
    @TempDir
    Path dir;

    static final SimulatorConfig CFG = SimulatorConfig.load(Path.of(SimulatorConfig.DEFAULT_PATH), List.of());

    @Test
    void labeledRunWritesTheMmsegLayoutWithExactMasks() throws IOException {
        Path out = dir.resolve("a");
        run(out, 14, 48, true, 2);
        JsonNode manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        assertEquals(14, manifest.get("images").size());
        assertEquals("recess", manifest.get("classes").get(1).asText());
        KneeSimulator sim = new KneeSimulator(CFG);
        for (JsonNode e : manifest.get("images")) {
            int i = e.get("index").asInt();
            String split = e.get("split").asText();
            assertEquals(SimulationRun.split(CFG, 9, i), split);
            assertEquals(String.format("img_dir/%s/sim_%06d.png", split, i), e.get("image").asText());
            assertEquals(String.format("ann_dir/%s/sim_%06d.png", split, i), e.get("mask").asText());
            SimImage img = sim.generate(9, i, 48);
            assertArrayEquals(img.gray, readGray(out.resolve(e.get("image").asText())), "image " + i);
            byte[] mask = readGray(out.resolve(e.get("mask").asText()));
            assertArrayEquals(img.mask(new byte[48 * 48]), mask, "mask " + i + " vs label map");
            assertEquals(img.recessArea(), e.get("recessPixels").asInt());
        }
    }

    @Test
    void outputDoesNotDependOnThreadCount() throws IOException {
        Path one = dir.resolve("one"), two = dir.resolve("two");
        run(one, 9, 40, true, 1);
        run(two, 9, 40, true, 3);
        List<Path> files = pngs(one);
        assertEquals(18, files.size());
        for (Path f : files) {
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(two.resolve(one.relativize(f))), f.toString());
        }
    }

    @Test
    void unlabeledRunWritesAFlatFolder() throws IOException {
        Path out = dir.resolve("u");
        run(out, 5, 32, false, 2);
        List<Path> files = pngs(out);
        assertEquals(5, files.size());
        for (Path f : files) {
            assertEquals(out, f.getParent());
        }
        assertTrue(Files.exists(out.resolve("manifest.json")));
        try (Stream<Path> s = Files.list(out)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files left behind");
        }
    }

    @Test
    void splitsFollowTheConfiguredFractions() {
        int[] n = new int[3];
        for (int i = 0; i < 4000; i++) {
            n[List.of(SimulationRun.SPLITS).indexOf(SimulationRun.split(CFG, 1, i))]++;
        }
        // binomial standard deviation at 4000 draws is ~0.7 %; 3 % is far outside chance
        assertEquals(0.70, n[0] / 4000.0, 0.03);
        assertEquals(0.15, n[1] / 4000.0, 0.03);
        assertEquals(0.15, n[2] / 4000.0, 0.03);
    }

    private static void run(Path out, int count, int size, boolean labeled, int threads) {
        Progress quiet = new Progress(new PrintStream(new ByteArrayOutputStream()), "test", count, false);
        SimulationRun.run(CFG, "test", new SimulationRun.Options(out, count, size, 9, labeled, threads), quiet);
    }

    static byte[] readGray(Path f) throws IOException {
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType(), f + " is not 8-bit gray");
        int[] px = img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
        byte[] b = new byte[px.length];
        for (int i = 0; i < px.length; i++) {
            b[i] = (byte) px[i];
        }
        return b;
    }

    private static List<Path> pngs(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
    }
}
