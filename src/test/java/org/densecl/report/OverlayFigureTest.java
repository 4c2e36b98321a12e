package org.densecl.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.densecl.data.io.GrayImage;
import org.densecl.data.io.LabelImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OverlayFigureTest {
    private static final int N = 12;
    private static final int GRAY = 0x808080; // 0.5 * 255 rounds to 128

    @TempDir
    Path dir;

    /** A 12x12 mask with class 1 on rows and columns [lo, hi]. */
    private static LabelImage square(int lo, int hi) {
        byte[] b = new byte[N * N];
        for (int z = lo; z <= hi; z++) {
            for (int x = lo; x <= hi; x++) {
                b[z * N + x] = 1;
            }
        }
        return new LabelImage(N, N, b);
    }

    private static OverlayFigure.Panel panel() {
        float[] px = new float[N * N];
        Arrays.fill(px, 0.5f);
        // truth: rows/cols 2..7; model A: 1..6; model B: 3..9
        return new OverlayFigure.Panel(new GrayImage(N, N, px), square(2, 7), square(1, 6), square(3, 9));
    }

    private static int rgb(BufferedImage img, int x, int z) {
        return img.getRGB(x, z) & 0xffffff;
    }

    @Test
    void outlinesAreWhiteBlueRedAndInteriorsUntouched() throws Exception {
        Path png = dir.resolve("fig/overlay.png");
        OverlayFigure.write(png, List.of(panel()), OverlayFigure.Layout.columns(1));
        BufferedImage img = ImageIO.read(png.toFile());
        int o = OverlayFigure.MARGIN; // no titles: the only panel starts at (MARGIN, MARGIN)
        assertEquals(2 * o + N, img.getWidth());
        assertEquals(2 * o + N, img.getHeight());
        // (z, x) = (2, 4): the truth's top edge, inside A, outside B
        assertEquals(OverlayFigure.TRUTH_RGB, rgb(img, o + 4, o + 2));
        // (1, 3): A's top edge, outside the truth and B
        assertEquals(OverlayFigure.A_RGB, rgb(img, o + 3, o + 1));
        // (9, 5): B's bottom edge only
        assertEquals(OverlayFigure.B_RGB, rgb(img, o + 5, o + 9));
        // (2, 6): the truth's edge and A's right edge: A is drawn after the truth
        assertEquals(OverlayFigure.A_RGB, rgb(img, o + 6, o + 2));
        // (6, 3): A's bottom edge and B's left edge: B is drawn last
        assertEquals(OverlayFigure.B_RGB, rgb(img, o + 3, o + 6));
        // (4, 5): inside all three masks, on no edge; (0, 11): outside all; both keep the image's gray
        assertEquals(GRAY, rgb(img, o + 5, o + 4));
        assertEquals(GRAY, rgb(img, o + 11, o + 0));
        // the margin is page white, and no temp file is left behind
        assertEquals(0xffffff, rgb(img, 0, 0));
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count());
        }
    }

    /** A 4-neighbour of another class makes an edge pixel; the image border does not. */
    @Test
    void outlineIsTheInnerBoundaryOfTheClass() {
        // 3x4: class 1 fills the left 3 columns, the right column is 0
        byte[] b = {1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0};
        boolean[] e = OverlayFigure.outline(new LabelImage(3, 4, b), 1);
        boolean[] expected = {false, false, true, false, false, false, true, false, false, false, true, false};
        assertTrue(Arrays.equals(expected, e), Arrays.toString(e));
    }

    @Test
    void titlesScaleAndLegendPlaceTheSecondPanel() throws Exception {
        var layout = OverlayFigure.Layout.columns(2).withTitles(List.of("case 1", "case 2")).withScale(2)
                .withNames("DenseCL", "Kaiming");
        List<OverlayFigure.Panel> panels = List.of(panel(), panel());
        Path png = dir.resolve("grid.png");
        OverlayFigure.write(png, panels, layout);
        BufferedImage img = ImageIO.read(png.toFile());
        var g = OverlayFigure.grid(panels, layout);
        assertEquals(g.width(), img.getWidth());
        assertEquals(g.height(), img.getHeight());
        assertTrue(g.top() > OverlayFigure.MARGIN, "titles take a band above the grid");
        // second panel, scale 2: image pixel (9, 5) (B's edge) covers figure pixels (18..19, 10..11)
        int x0 = g.x0(1), y0 = g.y0(0);
        for (int dz = 0; dz < 2; dz++) {
            for (int dx = 0; dx < 2; dx++) {
                assertEquals(OverlayFigure.B_RGB, rgb(img, x0 + 10 + dx, y0 + 18 + dz));
            }
        }
        assertEquals(GRAY, rgb(img, x0 + 10, y0 + 8));
        int dark = 0; // the titles are black text on the page's white
        for (int z = 0; z < g.top(); z++) {
            for (int x = 0; x < img.getWidth(); x++) {
                dark += rgb(img, x, z) == 0 ? 1 : 0;
            }
        }
        assertTrue(dark > 10, "title band has " + dark + " black pixels");
    }

    @Test
    void mismatchedSizesAndTitlesAreClearErrors() {
        float[] px = new float[N * N];
        var e = assertThrows(IllegalArgumentException.class,
                () -> new OverlayFigure.Panel(new GrayImage(N, N, px), new LabelImage(N, 6, new byte[N * 6]), null, null));
        assertTrue(e.getMessage().contains("6x12") && e.getMessage().contains("12x12"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OverlayFigure.Layout.columns(3).withTitles(List.of("a")));
    }
}
