package org.densecl.report;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A t-SNE map as a scatter PNG: 2-D points coloured by group (e.g. "DenseCL" vs "Kaiming", or by image
 * class), with a title and a legend, WIDTH x HEIGHT pixels, written atomically. The axes carry no
 * ticks: t-SNE coordinates have no units, only neighbourhoods matter.
 */
public final class TsnePlot {
    public static final int WIDTH = 800;
    public static final int HEIGHT = 700;
    /** Group colours by first appearance when the caller gives none (matplotlib's tab10). */
    public static final List<Color> PALETTE = List.of(new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf));

    private TsnePlot() {}

    /** Points (n, 2) with one group name each, coloured from {@link #PALETTE} in order of first appearance. */
    public static void write(Path png, String title, double[][] points, List<String> groups) {
        write(png, title, points, groups, Map.of());
    }

    /** As above with a colour per group; every group must have one unless {@code colours} is empty. */
    public static void write(Path png, String title, double[][] points, List<String> groups, Map<String, Color> colours) {
        if (points.length != groups.size() || points.length == 0) {
            throw new IllegalArgumentException("t-SNE plot: " + points.length + " points but " + groups.size()
                    + " group names; give one group per point (and at least one point)");
        }
        Map<String, List<double[]>> byGroup = new LinkedHashMap<>();
        for (int i = 0; i < points.length; i++) {
            if (points[i].length != 2 || !Double.isFinite(points[i][0]) || !Double.isFinite(points[i][1])) {
                throw new IllegalArgumentException("t-SNE plot: point " + i + " is " + java.util.Arrays.toString(points[i])
                        + "; every point needs two finite coordinates");
            }
            byGroup.computeIfAbsent(groups.get(i), g -> new ArrayList<>()).add(points[i]);
        }
        if (byGroup.size() > PALETTE.size() && colours.isEmpty()) {
            throw new IllegalArgumentException("t-SNE plot: " + byGroup.size() + " groups but the default palette has "
                    + PALETTE.size() + " colours; pass a colour per group");
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("t-SNE 1")
                .yAxisTitle("t-SNE 2").build();
        ChartPng.style(chart);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setAxisTicksVisible(false);
        int k = 0;
        for (var e : byGroup.entrySet()) {
            Color c = colours.isEmpty() ? PALETTE.get(k++) : colours.get(e.getKey());
            if (c == null) {
                throw new IllegalArgumentException("t-SNE plot: no colour for group '" + e.getKey() + "' (colours for "
                        + colours.keySet() + ")");
            }
            double[] x = e.getValue().stream().mapToDouble(p -> p[0]).toArray();
            double[] y = e.getValue().stream().mapToDouble(p -> p[1]).toArray();
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(c);
        }
        ChartPng.write(chart, png);
    }
}
