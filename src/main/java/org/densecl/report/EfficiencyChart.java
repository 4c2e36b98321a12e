package org.densecl.report;

import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The data-efficiency figure: mean test mIoU (percent) against the number of labeled training images, one
 * line per arm, with error bars of one standard deviation over the trials. WIDTH x HEIGHT pixels, written
 * atomically.
 */
public final class EfficiencyChart {
    public static final int WIDTH = 800;
    public static final int HEIGHT = 550;

    private EfficiencyChart() {}

    /**
     * One arm: labeled-set sizes, mean test mIoU at each and its standard deviation (NaN, e.g. with one
     * trial, draws no bar).
     */
    public record Arm(String name, Color color, double[] sizes, double[] mean, double[] std) {
        public Arm {
            if (sizes.length == 0 || sizes.length != mean.length || sizes.length != std.length) {
                throw new IllegalArgumentException("efficiency chart: arm '" + name + "' has " + sizes.length + " sizes, "
                        + mean.length + " means and " + std.length + " standard deviations; give one of each per size");
            }
        }
    }

    public static void write(Path png, String title, List<Arm> arms) {
        if (arms.isEmpty()) {
            throw new IllegalArgumentException("efficiency chart: no arms to draw");
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("labeled training images").yAxisTitle("test mIoU (%), mean and std over trials").build();
        ChartPng.style(chart);
        chart.getStyler().setMarkerSize(8);
        chart.getStyler().setXAxisDecimalPattern("#");
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        for (Arm a : arms) {
            double[] bars = new double[a.std().length]; // (sizes) NaN -> no bar
            for (int i = 0; i < bars.length; i++) {
                if (!Double.isFinite(a.mean()[i])) {
                    throw new IllegalArgumentException("efficiency chart: arm '" + a.name() + "' has mean "
                            + a.mean()[i] + " at " + a.sizes()[i] + " images; every mean must be finite");
                }
                bars[i] = Double.isFinite(a.std()[i]) ? a.std()[i] : 0;
            }
            XYSeries s = chart.addSeries(a.name(), a.sizes(), a.mean(), bars);
            s.setLineColor(a.color());
            s.setMarkerColor(a.color());
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        ChartPng.write(chart, png);
    }
}
