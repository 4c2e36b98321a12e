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
