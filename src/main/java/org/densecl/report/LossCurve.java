package org.densecl.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws the loss curves of a training log (JSONL, one object per logged step with a "step" field, or an
 * "iteration" field as fine-tuning logs have) as a PNG: each requested field as a faint raw line plus a
 * moving average, so a noisy curve still shows its trend. Written atomically (temp file + rename).
 */
public final class LossCurve {
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b)};
    private static final BasicStroke[] STYLES = {new BasicStroke(2f),
            new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 5f}, 0f),
            new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {2f, 4f}, 0f)};

    private LossCurve() {}

    /** One training log and the name its curves carry in the legend when several runs share a chart. */
    public record Run(String label, Path log) {}

    /**
     * @param log    the JSONL log
     * @param png    the picture to write
     * @param title  chart title
     * @param fields the numeric fields to draw, e.g. loss, loss_global, loss_dense
     * @param window moving-average window in records (1 = none)
     */
    public static void write(Path log, Path png, String title, List<String> fields, int window) {
        write(List.of(new Run("", log)), png, title, fields, window);
    }

    /**
     * Several runs on one chart (e.g. the engine and its PyTorch twin): one colour per field, lighter for
     * each later run, and one line style per run (solid, dashed, dotted; a dash shows only where points are
     * sparser than the pattern, so the shade is what tells dense curves apart); legend "label field".
     */
    public static void write(List<Run> runs, Path png, String title, List<String> fields, int window) {
        boolean lossOnly = fields.stream().allMatch(f -> f.startsWith("loss"));
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("step")
                .yAxisTitle(lossOnly ? "loss" : "value").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(0xdddddd));
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setXAxisLabelRotation(90); // XChart packs step labels densely; upright they stay legible
        chart.getStyler().setXAxisDecimalPattern("#");
        int c = 0;
        for (int r = 0; r < runs.size(); r++) {
            Run run = runs.get(r);
            int f = 0;
            for (var e : read(run.log(), fields).entrySet()) {
                Color color = shade(COLORS[f++ % COLORS.length], r);
                List<double[]> points = e.getValue();
                if (points.isEmpty()) {
                    continue;
                }
                c++;
                String name = runs.size() == 1 ? e.getKey() : run.label() + " " + e.getKey();
                double[] x = points.stream().mapToDouble(p -> p[0]).toArray();
                double[] y = points.stream().mapToDouble(p -> p[1]).toArray();
                if (window > 1 && runs.size() == 1) { // raw lines of several runs would hide each other
                    XYSeries raw = chart.addSeries(name + " (raw)", x, y);
                    raw.setLineColor(new Color(color.getRed(), color.getGreen(), color.getBlue(), 60));
                    raw.setMarker(SeriesMarkers.NONE);
                    raw.setShowInLegend(false);
                }
                XYSeries smooth = chart.addSeries(window > 1 ? name + " (mean of " + window + ")" : name, x,
                        movingAverage(y, window));
                smooth.setLineColor(color);
                smooth.setLineStyle(STYLES[r % STYLES.length]);
                smooth.setMarker(SeriesMarkers.NONE);
            }
        }
        String logs = runs.stream().map(x -> x.log().toString()).reduce((a, b) -> a + ", " + b).orElse("");
        if (c == 0) {
            throw new IllegalArgumentException("plot: " + logs + " has no records with fields " + fields);
        }
        try {
            Path dir = png.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            // saveBitmap appends ".png" to a name without it, so the temp name ends in .png too
            Path tmp = dir.resolve("." + png.getFileName() + ".tmp.png");
            try {
                BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
                Files.move(tmp, png, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("plot: cannot write " + png + ": " + e.getMessage(), e);
        }
    }

    /** The field's colour for run r: mixed with white, 40% more for each later run (at most 80%). */
    private static Color shade(Color c, int r) {
        double w = Math.min(0.8, 0.4 * r);
        return new Color((int) (c.getRed() + (255 - c.getRed()) * w), (int) (c.getGreen() + (255 - c.getGreen()) * w),
                (int) (c.getBlue() + (255 - c.getBlue()) * w));
    }

    /** (step, value) pairs per field; records without a field are skipped for that field. */
    static Map<String, List<double[]>> read(Path log, List<String> fields) {
        Map<String, List<double[]>> out = new LinkedHashMap<>();
        fields.forEach(f -> out.put(f, new ArrayList<>()));
        ObjectMapper json = new ObjectMapper();
        List<String> lines;
        try {
            lines = Files.readAllLines(log);
        } catch (IOException e) {
            throw new UncheckedIOException("plot: cannot read " + log + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            JsonNode rec;
            try {
                rec = json.readTree(lines.get(i));
            } catch (IOException e) {
                throw new IllegalArgumentException("plot: " + log + " line " + (i + 1) + " is not JSON: " + e.getMessage());
            }
            JsonNode x = rec.has("step") ? rec.get("step") : rec.get("iteration"); // pretraining, fine-tuning
            if (x == null) {
                continue;
            }
            for (String f : fields) {
                if (rec.hasNonNull(f) && rec.get(f).isNumber()) {
                    out.get(f).add(new double[] {x.asDouble(), rec.get(f).asDouble()});
                }
            }
        }
        return out;
    }

    /** Trailing mean over the last {@code window} values (shorter at the start). */
    static double[] movingAverage(double[] y, int window) {
        double[] out = new double[y.length];
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += y[i];
            if (i >= window) {
                sum -= y[i - window];
            }
            out[i] = sum / Math.min(i + 1, Math.max(1, window));
        }
        return out;
    }
}
