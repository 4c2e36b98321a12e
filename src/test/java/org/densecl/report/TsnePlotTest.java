package org.densecl.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TsnePlotTest {
    private static final Color DENSECL = new Color(0x1f4fd0), KAIMING = new Color(0xd02020);

    @TempDir
    Path dir;

    static int countColour(BufferedImage img, Color c) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xffffff) == (c.getRGB() & 0xffffff) ? 1 : 0;
            }
        }
        return n;
    }

    @Test
    void writesAValidPngOfTheExpectedSizeWithBothGroups() throws Exception {
        double[][] pts = new double[40][];
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            boolean a = i < 20;
            pts[i] = new double[] {(a ? -10 : 10) + Math.sin(i), Math.cos(3 * i)};
            groups.add(a ? "DenseCL" : "Kaiming");
        }
        Path png = dir.resolve("plots/tsne.png");
        TsnePlot.write(png, "C5 features, t-SNE", pts, groups, Map.of("DenseCL", DENSECL, "Kaiming", KAIMING));
        try (InputStream in = Files.newInputStream(png)) {
            byte[] magic = in.readNBytes(8);
            assertTrue(Arrays.equals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, magic), "PNG signature");
        }
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(TsnePlot.WIDTH, img.getWidth());
        assertEquals(TsnePlot.HEIGHT, img.getHeight());
        // markers and legend swatches are filled in the groups' exact colours
        assertTrue(countColour(img, DENSECL) > 100, "DenseCL pixels " + countColour(img, DENSECL));
        assertTrue(countColour(img, KAIMING) > 100, "Kaiming pixels " + countColour(img, KAIMING));
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count(), "no temp file is left next to the PNG");
        }
    }

    @Test
    void mismatchedGroupsAndMissingColoursAreClearErrors() {
        double[][] pts = {{0, 0}, {1, 1}};
        var e = assertThrows(IllegalArgumentException.class,
                () -> TsnePlot.write(dir.resolve("a.png"), "t", pts, List.of("a")));
        assertTrue(e.getMessage().contains("2 points") && e.getMessage().contains("1 group"), e.getMessage());
        var c = assertThrows(IllegalArgumentException.class,
                () -> TsnePlot.write(dir.resolve("b.png"), "t", pts, List.of("a", "b"), Map.of("a", Color.BLUE)));
        assertTrue(c.getMessage().contains("'b'"), c.getMessage());
        assertTrue(Files.notExists(dir.resolve("b.png")));
    }
}
