package org.densecl.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearningCurvesTest {
    @TempDir
    Path dir;

    private static List<LearningCurves.Point> curve(double start, double end) {
        List<LearningCurves.Point> pts = new ArrayList<>();
        for (int it = 2000; it <= 20000; it += 2000) {
            pts.add(new LearningCurves.Point(it, end - (end - start) * Math.exp(-it / 5000.0)));
        }
        return pts;
    }

    @Test
    void drawsEveryRunInItsColour() throws Exception {
        List<Color> blues = LearningCurves.shades(new Color(0x1f4fd0), 2), reds = LearningCurves.shades(new Color(0xd02020), 2);
        List<LearningCurves.Run> runs = List.of(
                new LearningCurves.Run("DenseCL seed 1", blues.get(0), curve(40, 75)),
                new LearningCurves.Run("DenseCL seed 2", blues.get(1), curve(42, 74)),
                new LearningCurves.Run("Kaiming seed 1", reds.get(0), curve(20, 65)),
                new LearningCurves.Run("Kaiming seed 2", reds.get(1), curve(22, 63)));
        Path png = dir.resolve("curves.png");
        LearningCurves.write(png, "FCN fine-tune", runs);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(LearningCurves.WIDTH, img.getWidth());
        assertEquals(LearningCurves.HEIGHT, img.getHeight());
        for (LearningCurves.Run r : runs) {
            int n = TsnePlotTest.countColour(img, r.color());
            assertTrue(n > 50, r.name() + ": " + n + " pixels of its colour");
        }
    }

    @Test
    void shadesKeepTheHueAndGetLighter() {
        List<Color> s = LearningCurves.shades(new Color(0x1f4fd0), 3);
        assertEquals(new Color(0x1f4fd0), s.get(0));
        for (int i = 1; i < 3; i++) {
            Color a = s.get(i - 1), b = s.get(i);
            assertNotEquals(a, b);
            assertTrue(b.getRed() > a.getRed() && b.getGreen() > a.getGreen() && b.getBlue() >= a.getBlue(), b.toString());
            assertTrue(b.getBlue() > b.getRed(), "still blue: " + b);
        }
    }

    @Test
    void duplicateNamesAndBadPointsAreClearErrors() {
        var run = new LearningCurves.Run("a", Color.BLUE, curve(1, 2));
        var dup = assertThrows(IllegalArgumentException.class,
                () -> LearningCurves.write(dir.resolve("x.png"), "t", List.of(run, run)));
        assertTrue(dup.getMessage().contains("'a'"), dup.getMessage());
        var nan = new LearningCurves.Run("b", Color.RED, List.of(new LearningCurves.Point(2000, Double.NaN)));
        var e = assertThrows(IllegalArgumentException.class, () -> LearningCurves.write(dir.resolve("y.png"), "t", List.of(nan)));
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("NaN"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LearningCurves.write(dir.resolve("z.png"), "t", List.of()));
    }
}
