package org.densecl.report;

import java.awt.Color;
import java.nio.file.Path;
import org.densecl.data.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.Chart;

/** What the report's XChart figures share: one plain look, and a PNG written atomically. */
final class ChartPng {
    private ChartPng() {}

    /** White page, light grid, legend inside the plot's free corner. */
    static void style(XYChart chart) {
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(0xdddddd));
        chart.getStyler().setLegendBorderColor(new Color(0xbbbbbb));
    }

    /** Encodes {@code chart} as a PNG and renames it over {@code png} (readers never see half a file). */
    static void write(Chart<?, ?> chart, Path png) {
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
