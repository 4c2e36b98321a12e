package org.densecl.report;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Validation mIoU (percent) against fine-tune iteration for several named runs on one chart, one colour per
 * run chosen by the caller (e.g. every DenseCL run a blue from {@link #shades}, every Kaiming run a red), so
 * the arms read as two families. WIDTH x HEIGHT pixels, written atomically.
 */
public final class LearningCurves {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 550;

    private LearningCurves() {}

    /** One evaluation: after {@code iteration} fine-tune iterations, validation mIoU in percent. */
    public record Point(double iteration, double mIoU) {}

    /** A run's evaluations (any order; drawn by iteration) and its colour. */
    public record Run(String name, Color color, List<Point> points) {
        public Run {
            points = List.copyOf(points);
        }
    }

    public static void write(Path png, String title, List<Run> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("learning curves: no runs to draw");
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("iteration")
                .yAxisTitle("validation mIoU (%)").build();
        ChartPng.style(chart);
        chart.getStyler().setMarkerSize(6);
        chart.getStyler().setXAxisDecimalPattern("#");
        Set<String> names = new HashSet<>();
        for (Run run : runs) {
            if (!names.add(run.name())) {
                throw new IllegalArgumentException("learning curves: two runs are named '" + run.name()
                        + "'; give each run its own name (the legend tells them apart by it)");
            }
            if (run.points().isEmpty()) {
                throw new IllegalArgumentException("learning curves: run '" + run.name() + "' has no evaluations");
            }
            List<Point> pts = new ArrayList<>(run.points());
            pts.sort(Comparator.comparingDouble(Point::iteration));
            for (Point p : pts) {
                if (!Double.isFinite(p.iteration()) || !Double.isFinite(p.mIoU())) {
                    throw new IllegalArgumentException("learning curves: run '" + run.name() + "' has the point " + p
                            + "; iterations and mIoU must be finite (a NaN mIoU means nothing was scored)");
                }
            }
            XYSeries s = chart.addSeries(run.name(), pts.stream().mapToDouble(Point::iteration).toArray(),
                    pts.stream().mapToDouble(Point::mIoU).toArray());
            s.setLineColor(run.color());
            s.setMarkerColor(run.color());
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        ChartPng.write(chart, png);
    }

    /**
     * n distinguishable shades of one arm's colour: the first is {@code base}, later ones mixed with up to
     * 55% white, so a family of runs stays one hue.
     */
    public static List<Color> shades(Color base, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("shades: n must be >= 1, got " + n);
        }
        List<Color> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double w = n == 1 ? 0 : 0.55 * i / (n - 1);
            out.add(new Color((int) Math.round(base.getRed() + (255 - base.getRed()) * w),
                    (int) Math.round(base.getGreen() + (255 - base.getGreen()) * w),
                    (int) Math.round(base.getBlue() + (255 - base.getBlue()) * w)));
        }
        return out;
    }
}
