package org.densecl.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.densecl.data.io.AtomicFiles;
import org.densecl.data.io.GrayImage;
import org.densecl.data.io.LabelImage;

/**
 * The study's qualitative figure: a grid of gray test images, each with the OUTLINES of one class
 * (foreground, class 1 by default) drawn over it: ground truth white, model A blue, model B red, so two
 * models' segmentations can be compared with the truth at a glance. An outline pixel is a pixel of the
 * class with a 4-neighbour of another class (ignore included); the image border does not close an
 * outline. Where outlines meet, the later one is on top: truth, then A, then B. Optional column titles
 * above the grid and a legend below it. Written atomically as an RGB PNG.
 */
public final class OverlayFigure {
    public static final int TRUTH_RGB = 0xFFFFFF;
    public static final int A_RGB = 0x1E78FF;
    public static final int B_RGB = 0xFF2020;
    static final int MARGIN = 6;  // pixels around and between cells
    private static final int SWATCH = 24; // legend swatch width
    private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 14);

    private OverlayFigure() {}

    /** One cell: a gray image and up to three masks of its size; a null mask is not drawn. */
    public record Panel(GrayImage image, LabelImage truth, LabelImage modelA, LabelImage modelB) {
        public Panel {
            if (image == null) {
                throw new IllegalArgumentException("overlay panel without an image");
            }
            for (LabelImage m : new LabelImage[] {truth, modelA, modelB}) {
                if (m != null && (m.height() != image.height() || m.width() != image.width())) {
                    throw new IllegalArgumentException("overlay mask is " + m.width() + "x" + m.height()
                            + " (WxH) but its image is " + image.width() + "x" + image.height());
                }
            }
        }
    }

    /**
     * How the grid looks: panels fill {@code columns} per row; {@code columnTitles} (empty for none, else one
     * per column) stand above the first row; {@code nameA}/{@code nameB} label the legend (both null: no
     * legend); outlines are drawn for {@code foregroundClass}; each image pixel becomes {@code scale} x
     * {@code scale} figure pixels.
     */
    public record Layout(int columns, List<String> columnTitles, String nameA, String nameB, int foregroundClass, int scale) {
        public Layout {
            columnTitles = List.copyOf(columnTitles);
            if (columns < 1 || scale < 1 || scale > 16) {
                throw new IllegalArgumentException("overlay layout: columns must be >= 1 and scale in [1, 16], got "
                        + columns + " and " + scale);
            }
            if (!columnTitles.isEmpty() && columnTitles.size() != columns) {
                throw new IllegalArgumentException("overlay layout: " + columnTitles.size() + " column titles for "
                        + columns + " columns");
            }
            if (foregroundClass < 0 || foregroundClass > 255) {
                throw new IllegalArgumentException("overlay layout: foreground class must be in [0, 255], got " + foregroundClass);
            }
        }

        /** {@code columns} per row, no titles, no legend, class 1, scale 1. */
        public static Layout columns(int columns) {
            return new Layout(columns, List.of(), null, null, 1, 1);
        }

        public Layout withTitles(List<String> titles) {
            return new Layout(columns, titles, nameA, nameB, foregroundClass, scale);
        }

        public Layout withNames(String a, String b) {
            return new Layout(columns, columnTitles, a, b, foregroundClass, scale);
        }

        public Layout withForeground(int cls) {
            return new Layout(columns, columnTitles, nameA, nameB, cls, scale);
        }

        public Layout withScale(int s) {
            return new Layout(columns, columnTitles, nameA, nameB, foregroundClass, s);
        }
    }

    /** Where the cells lie in the figure: cell (row, col) starts at (x0(col), y0(row)). */
    record Grid(int cellW, int cellH, int top, int width, int height) {
        int x0(int col) {
            return MARGIN + col * (cellW + MARGIN);
        }

        int y0(int row) {
            return top + row * (cellH + MARGIN);
        }
    }

    /** Draws the figure and writes it to {@code png} atomically. */
    public static void write(Path png, List<Panel> panels, Layout layout) {
        BufferedImage img = render(panels, layout);
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer in javax.imageio");
            }
        });
    }

    static BufferedImage render(List<Panel> panels, Layout layout) {
        Grid g = grid(panels, layout);
        BufferedImage img = new BufferedImage(g.width(), g.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D gfx = img.createGraphics();
        try {
            gfx.setColor(Color.WHITE);
            gfx.fillRect(0, 0, g.width(), g.height());
            gfx.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            gfx.setFont(FONT);
            FontMetrics fm = gfx.getFontMetrics();
            gfx.setColor(Color.BLACK);
            for (int c = 0; c < layout.columnTitles().size(); c++) {
                String t = layout.columnTitles().get(c);
                gfx.setClip(g.x0(c), 0, g.cellW(), g.top());
                gfx.drawString(t, g.x0(c) + (g.cellW() - fm.stringWidth(t)) / 2, MARGIN + fm.getAscent());
            }
            gfx.setClip(null);
            if (layout.nameA() != null || layout.nameB() != null) {
                legend(gfx, fm, layout, g.height() - MARGIN - fm.getHeight());
            }
        } finally {
            gfx.dispose();
        }
        for (int i = 0; i < panels.size(); i++) {
            Panel p = panels.get(i);
            int x0 = g.x0(i % layout.columns()) + (g.cellW() - p.image().width() * layout.scale()) / 2;
            int y0 = g.y0(i / layout.columns()) + (g.cellH() - p.image().height() * layout.scale()) / 2;
            drawPanel(img, p, layout, x0, y0);
        }
        return img;
    }

    static Grid grid(List<Panel> panels, Layout layout) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("overlay figure without panels");
        }
        int cellW = 0, cellH = 0;
        for (Panel p : panels) {
            cellW = Math.max(cellW, p.image().width() * layout.scale());
            cellH = Math.max(cellH, p.image().height() * layout.scale());
        }
        int rows = (panels.size() + layout.columns() - 1) / layout.columns();
        FontMetrics fm = fontMetrics();
        boolean legend = layout.nameA() != null || layout.nameB() != null;
        int top = MARGIN + (layout.columnTitles().isEmpty() ? 0 : fm.getHeight() + MARGIN);
        int bottom = MARGIN + (legend ? fm.getHeight() + MARGIN : 0);
        int width = MARGIN + layout.columns() * (cellW + MARGIN);
        if (legend) {
            width = Math.max(width, MARGIN + legendWidth(fm, legendNames(layout)) + MARGIN);
        }
        long height = (long) top + (long) rows * (cellH + MARGIN) - MARGIN + bottom;
        if ((long) width * height > 200_000_000L) {
            throw new IllegalArgumentException("overlay figure would be " + width + "x" + height
                    + " pixels; use fewer panels or a smaller scale");
        }
        return new Grid(cellW, cellH, top, width, (int) height);
    }

    /** True where {@code mask} has class {@code cls} and a 4-neighbour inside the image of another value. */
    static boolean[] outline(LabelImage mask, int cls) {
        int h = mask.height(), w = mask.width();
        boolean[] out = new boolean[h * w];
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                if (mask.get(z, x) != cls) {
                    continue;
                }
                out[z * w + x] = (z > 0 && mask.get(z - 1, x) != cls) || (z < h - 1 && mask.get(z + 1, x) != cls)
                        || (x > 0 && mask.get(z, x - 1) != cls) || (x < w - 1 && mask.get(z, x + 1) != cls);
            }
        }
        return out;
    }

    private static void drawPanel(BufferedImage img, Panel p, Layout layout, int x0, int y0) {
        GrayImage im = p.image();
        int s = layout.scale(), w = im.width();
        int[] rgb = new int[im.height() * w];
        for (int i = 0; i < rgb.length; i++) {
            float v = im.pixels()[i];
            int g = v > 0 ? (int) Math.min(255, Math.round(v * 255f)) : 0; // NaN -> 0 too
            rgb[i] = g << 16 | g << 8 | g;
        }
        LabelImage[] masks = {p.truth(), p.modelA(), p.modelB()};
        int[] colours = {TRUTH_RGB, A_RGB, B_RGB};
        for (int m = 0; m < 3; m++) {
            if (masks[m] == null) {
                continue;
            }
            boolean[] edge = outline(masks[m], layout.foregroundClass());
            for (int i = 0; i < rgb.length; i++) {
                if (edge[i]) {
                    rgb[i] = colours[m];
                }
            }
        }
        for (int z = 0; z < im.height(); z++) {
            for (int x = 0; x < w; x++) {
                for (int dz = 0; dz < s; dz++) {
                    for (int dx = 0; dx < s; dx++) {
                        img.setRGB(x0 + x * s + dx, y0 + z * s + dz, rgb[z * w + x]);
                    }
                }
            }
        }
    }

    /** A swatch and a name per drawn mask: "ground truth", A's name, B's name (a null name is left out). */
    private static void legend(Graphics2D gfx, FontMetrics fm, Layout layout, int y) {
        String[] names = legendNames(layout);
        int[] colours = {TRUTH_RGB, A_RGB, B_RGB};
        int x = MARGIN, mid = y + fm.getHeight() / 2;
        for (int i = 0; i < 3; i++) {
            if (names[i] == null) {
                continue;
            }
            gfx.setColor(Color.DARK_GRAY); // a dark frame: the truth's white swatch would vanish on the white page
            gfx.fillRect(x, mid - 4, SWATCH, 8);
            gfx.setColor(new Color(colours[i]));
            gfx.fillRect(x + 1, mid - 3, SWATCH - 2, 6);
            gfx.setColor(Color.BLACK);
            gfx.drawString(names[i], x + SWATCH + 6, y + fm.getAscent());
            x += SWATCH + 6 + fm.stringWidth(names[i]) + 18;
        }
    }

    private static String[] legendNames(Layout layout) {
        return new String[] {"ground truth", layout.nameA(), layout.nameB()};
    }

    private static int legendWidth(FontMetrics fm, String[] names) {
        int w = 0;
        for (String n : names) {
            w += n == null ? 0 : SWATCH + 6 + fm.stringWidth(n) + 18;
        }
        return w;
    }

    private static FontMetrics fontMetrics() {
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = probe.createGraphics();
        try {
            return g.getFontMetrics(FONT);
        } finally {
            g.dispose();
        }
    }
}
