package org.densecl.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossCurveTest {
    @TempDir
    Path dir;

    @Test
    void drawsEveryRequestedFieldAsAPng() throws Exception {
        Path log = dir.resolve("log.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int step = 1; step <= 50; step++) {
            sb.append(String.format("{\"step\":%d,\"loss\":%.3f,\"loss_global\":%.3f}%n", step, 5.0 / step, 2.0 / step));
        }
        Files.writeString(log, sb);
        Path png = dir.resolve("out/loss.png");
        LossCurve.write(log, png, "test", List.of("loss", "loss_global"), 5);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(900, img.getWidth());
        assertEquals(500, img.getHeight());
        var series = LossCurve.read(log, List.of("loss", "loss_global", "loss_dense"));
        assertEquals(50, series.get("loss").size());
        assertTrue(series.get("loss_dense").isEmpty());
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count(), "no temp file is left next to the PNG");
        }
    }

    /** Two runs on one chart: the picture differs from either run alone (both sets of curves are drawn). */
    @Test
    void overlaysSeveralRuns() throws Exception {
        Path a = dir.resolve("a.jsonl"), b = dir.resolve("b.jsonl");
        StringBuilder sa = new StringBuilder(), sb = new StringBuilder();
        for (int step = 1; step <= 40; step++) {
            sa.append(String.format("{\"step\":%d,\"loss\":%.3f}%n", step, 5.0 / step));
            sb.append(String.format("{\"step\":%d,\"loss\":%.3f}%n", step, 1 + 0.05 * step));
        }
        Files.writeString(a, sa);
        Files.writeString(b, sb);
        Path both = dir.resolve("both.png"), one = dir.resolve("one.png");
        LossCurve.write(List.of(new LossCurve.Run("ours", a), new LossCurve.Run("torch", b)), both, "t",
                List.of("loss"), 1);
        LossCurve.write(List.of(new LossCurve.Run("ours", a)), one, "t", List.of("loss"), 1);
        BufferedImage p2 = ImageIO.read(both.toFile()), p1 = ImageIO.read(one.toFile());
        int differ = 0;
        for (int y = 0; y < p1.getHeight(); y++) {
            for (int x = 0; x < p1.getWidth(); x++) {
                differ += p1.getRGB(x, y) != p2.getRGB(x, y) ? 1 : 0;
            }
        }
        assertTrue(differ > 500, "the second run's curve changed only " + differ + " pixels");
    }

    @Test
    void movingAverageIsTrailing() {
        assertArrayEquals(new double[] {1, 1.5, 2.5, 3.5}, LossCurve.movingAverage(new double[] {1, 2, 3, 4}, 2), 1e-12);
        assertArrayEquals(new double[] {1, 2, 3}, LossCurve.movingAverage(new double[] {1, 2, 3}, 1), 1e-12);
    }

    @Test
    void aLogWithoutTheFieldsIsAClearError() throws Exception {
        Path log = dir.resolve("empty.jsonl");
        Files.writeString(log, "{\"step\":1,\"acc\":0.5}\n");
        var e = assertThrows(IllegalArgumentException.class,
                () -> LossCurve.write(log, dir.resolve("x.png"), "t", List.of("loss"), 1));
        assertTrue(e.getMessage().contains("empty.jsonl") && e.getMessage().contains("loss"), e.getMessage());
    }
}
