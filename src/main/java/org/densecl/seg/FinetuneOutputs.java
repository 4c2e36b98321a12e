package org.densecl.seg;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.densecl.data.io.AtomicFiles;
import org.densecl.report.LearningCurves;
import org.densecl.report.LossCurve;
import org.densecl.seg.eval.SegMetrics;
import org.densecl.train.TrainingLog;

/**
 * The text and picture outputs of {@code ./densecl finetune}: log.jsonl records, metrics.json, curve.png and
 * loss.png. Kept out of the command so their formats live in one place, next to the code that reads the log
 * back (resume, curves). Every number a run writes here is a pure function of the run, so an interrupted and
 * resumed run writes the same bytes as an uninterrupted one.
 */
public final class FinetuneOutputs {
    private static final Pattern ITERATION = Pattern.compile("^\\{\"iteration\":(\\d+),");
    private static final ObjectMapper JSON = new ObjectMapper();

    private FinetuneOutputs() {}

    /**
     * One log.jsonl line: iteration (completed, 1-based), loss = loss_decode + 0.4 loss_aux (each head's own
     * cross-entropy before weighting), lr used for that iteration; on validation iterations val_miou, val_dice
     * (mDice) and val_acc (aAcc, overall pixel accuracy), in percent.
     */
    public static String record(long iteration, SegmentationModel.Losses l, float lr, SegMetrics val) {
        String base = String.format(Locale.ROOT, "{\"iteration\":%d,\"loss\":%.6f,\"loss_decode\":%.6f,\"loss_aux\":%.6f,"
                + "\"lr\":%.6g", iteration, l.total(), l.decode(), l.aux(), lr);
        String v = val == null ? "" : String.format(Locale.ROOT, ",\"val_miou\":%.4f,\"val_dice\":%.4f,\"val_acc\":%.4f",
                val.mIoU(), val.mDice(), val.aAcc());
        return base + v + "}" + System.lineSeparator();
    }

    /** Drops log records past {@code iteration} (atomically): a resumed run rewrites the iterations after its checkpoint. */
    public static void truncate(Path log, long iteration) {
        TrainingLog.truncate(log, ITERATION, iteration);
    }

    /**
     * metrics.json of the final model on the test split: miou, dice (mDice), acc (aAcc), per-class iou and
     * dice_per_class (null where a class is absent from both prediction and labels), all in percent; the
     * iterations, the --init argument, and the best validation mIoU with its iteration.
     */
    public static void writeMetrics(Path file, SegMetrics m, long iterations, String init, double bestVal, long bestIt) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("split", "test");
        out.put("miou", finite(m.mIoU()));
        out.put("dice", finite(m.mDice()));
        out.put("acc", finite(m.aAcc()));
        out.put("iou", perClass(m.iou()));
        out.put("dice_per_class", perClass(m.dice()));
        out.put("iterations", iterations);
        out.put("init", init);
        out.put("best_val_miou", finite(bestVal));
        out.put("best_val_iteration", bestIt);
        ObjectMapper pretty = JSON.copy().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(file, o -> pretty.writeValue(o, out));
    }

    /** The miou field of a metrics.json. */
    public static double readMiou(Path file) {
        try {
            return JSON.readTree(file.toFile()).get("miou").asDouble();
        } catch (IOException | NullPointerException e) {
            throw new IllegalArgumentException("cannot read miou from " + file + ": " + e.getMessage(), e);
        }
    }

    /** curve.png: val mIoU against iteration (LearningCurves); loss.png: the three loss fields (LossCurve). */
    public static void writeCurves(Path log, Path curve, Path loss, String title) {
        List<LearningCurves.Point> points = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(log)) {
                JsonNode r = JSON.readTree(line);
                if (r.has("val_miou")) {
                    points.add(new LearningCurves.Point(r.get("iteration").asDouble(), r.get("val_miou").asDouble()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + log + ": " + e.getMessage(), e);
        }
        LearningCurves.write(curve, "Validation mIoU: " + title,
                List.of(new LearningCurves.Run(title, new Color(0x1f77b4), points)));
        LossCurve.write(log, loss, "Fine-tuning loss: " + title, List.of("loss", "loss_decode", "loss_aux"), 20);
    }

    /** The JSON text of one top-level section of a config JSON ("" when absent). */
    public static String section(String configJson, String name) {
        try {
            JsonNode n = JSON.readTree(configJson).get(name);
            return n == null ? "" : n.toString();
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a config JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static List<Double> perClass(double[] v) {
        List<Double> out = new ArrayList<>();
        for (double x : v) {
            out.add(finite(x));
        }
        return out;
    }
}
