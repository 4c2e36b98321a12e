package org.densecl.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.RenderingHints;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.densecl.data.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The figure of {@code bench ratios --plot}: one panel per compared step (its title) and setup (a caption under
 * it), runs along x in the log's order, each round's ratio (ours faster than PyTorch by this factor) a small
 * dot, each run's geometric mean a diamond, and the target a red line. Panels WIDTH x PANEL_HEIGHT pixels,
 * stacked, written atomically as one PNG.
 */
public final class StepRatioChart {
    public static final int WIDTH = 1200;
    public static final int PANEL_HEIGHT = 420;
    /** The caption strip under each chart: the setup, wrapped. */
    private static final int CAPTION = 40;
    private static final Color ROUND = new Color(0x7f9fc7);
    private static final Color RUN = new Color(0x1f4e9c);
    private static final Color TARGET = new Color(0xc0392b);

    private StepRatioChart() {}

    /**
     * One panel.
     *
     * @param title       the step
     * @param setup       the machine and any ISA caps
     * @param roundRatios (runs)(rounds of that run) the rounds' ratios
     * @param runMeans    (runs) each run's geometric mean
     */
    public record Panel(String title, String setup, List<double[]> roundRatios, double[] runMeans) {
        public Panel {
            if (roundRatios.isEmpty() || roundRatios.size() != runMeans.length) {
                throw new IllegalArgumentException("step ratio chart: panel '" + title + "' has " + roundRatios.size()
                        + " runs of rounds and " + runMeans.length + " run means; give one of each per run, at least one");
            }
        }
    }

    public static void write(Path png, double target, List<Panel> panels) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("step ratio chart: no panels to draw");
        }
        BufferedImage page = new BufferedImage(WIDTH, PANEL_HEIGHT * panels.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = page.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, page.getWidth(), page.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i < panels.size(); i++) {
            int top = i * PANEL_HEIGHT;
            g.drawImage(BitmapEncoder.getBufferedImage(chart(panels.get(i), target)), 0, top, null);
            g.setColor(Color.DARK_GRAY);
            int y = top + PANEL_HEIGHT - CAPTION + g.getFontMetrics().getAscent() + 4;
            for (String line : wrap("on " + panels.get(i).setup(), g.getFontMetrics(), WIDTH - 40)) {
                g.drawString(line, 20, y);
                y += g.getFontMetrics().getHeight();
            }
        }
        g.dispose();
        AtomicFiles.write(png, out -> ImageIO.write(page, "png", out));
    }

    private static XYChart chart(Panel p, double target) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(PANEL_HEIGHT - CAPTION).title(p.title())
                .xAxisTitle("run, in the log's order").yAxisTitle("PyTorch s/step / ours").build();
        ChartPng.style(chart);
        // a long step description: a small plain title; the legend under the plot leaves the plot the width
        chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setXAxisDecimalPattern("#");
        chart.getStyler().setMarkerSize(7);
        int rounds = p.roundRatios().stream().mapToInt(r -> r.length).sum(), at = 0;
        double[] rx = new double[rounds], ry = new double[rounds]; // (rounds of all runs)
        double[] mx = new double[p.runMeans().length];              // (runs)
        for (int run = 0; run < mx.length; run++) {
            double[] r = p.roundRatios().get(run);
            for (int j = 0; j < r.length; j++, at++) {
                // spread a run's rounds a little along x, so that equal ratios stay visible
                rx[at] = run + 1 + (r.length == 1 ? 0 : 0.3 * (j / (r.length - 1.0) - 0.5));
                ry[at] = r[j];
            }
            mx[run] = run + 1;
        }
        style(chart.addSeries("rounds", rx, ry), ROUND, SeriesMarkers.CIRCLE);
        style(chart.addSeries("run (geometric mean of its rounds)", mx, p.runMeans()), RUN, SeriesMarkers.DIAMOND);
        XYSeries line = chart.addSeries(String.format("target %.2f", target), new double[] {0.5, mx.length + 0.5},
                new double[] {target, target});
        style(line, TARGET, SeriesMarkers.NONE);
        line.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        return chart;
    }

    // `text` in lines of at most `width` pixels, broken at spaces.
    private static List<String> wrap(String text, FontMetrics metrics, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (!line.isEmpty() && metrics.stringWidth(line + " " + word) > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            line.append(line.isEmpty() ? "" : " ").append(word);
        }
        lines.add(line.toString());
        return lines;
    }

    private static void style(XYSeries s, Color color, org.knowm.xchart.style.markers.Marker marker) {
        s.setMarkerColor(color);
        s.setLineColor(color);
        s.setMarker(marker);
    }
}
