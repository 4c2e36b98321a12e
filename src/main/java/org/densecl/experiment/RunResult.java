package org.densecl.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A finished fine-tuning as the report needs it, read back from the run's own files so that the report and
 * results.json always say what metrics.json and log.jsonl say: test mIoU, mDice and aAcc, per-class IoU and
 * Dice (null for a class absent from prediction and truth), iterations, the best validation, and the
 * validation curve (percent).
 *
 * @param trainImages the labeled training images the run used (names, in loader order)
 */
public record RunResult(ExperimentPlan.RunSpec spec, double miou, double mdice, double acc, List<Double> iou,
                        List<Double> dice, long iterations, double bestValMiou, long bestValIteration,
                        List<CurvePoint> curve, List<String> trainImages) {

    /** One validation of the run: iteration and val mIoU, mDice (percent). */
    public record CurvePoint(long iteration, double miou, double mdice) {}

    public RunResult {
        iou = nullable(iou);
        dice = nullable(dice);
        curve = List.copyOf(curve);
        trainImages = List.copyOf(trainImages);
    }

    /** Class {@code c}'s test IoU (NaN when absent). */
    public double iou(int c) {
        Double v = c < iou.size() ? iou.get(c) : null;
        return v == null ? Double.NaN : v;
    }

    /** The last validation's mIoU: the final model's, as the log's last record holds it. */
    public double finalValMiou() {
        return curve.isEmpty() ? Double.NaN : curve.getLast().miou();
    }

    /** Reads metrics.json and log.jsonl of a finished run's folder. */
    public static RunResult read(ExperimentPlan.RunSpec spec, List<String> trainImages) {
        Path dir = spec.folder();
        ObjectMapper json = new ObjectMapper();
        try {
            JsonNode m = json.readTree(dir.resolve("metrics.json").toFile());
            List<CurvePoint> curve = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve("log.jsonl"))) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode r = json.readTree(line);
                if (r.has("val_miou")) {
                    curve.add(new CurvePoint(r.get("iteration").asLong(), r.get("val_miou").asDouble(),
                            r.get("val_dice").asDouble()));
                }
            }
            return new RunResult(spec, number(m, "miou", dir), number(m, "dice", dir), number(m, "acc", dir),
                    list(m.get("iou")), list(m.get("dice_per_class")), m.path("iterations").asLong(),
                    number(m, "best_val_miou", dir), m.path("best_val_iteration").asLong(), curve, trainImages);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the finished run in " + dir + ": " + e.getMessage()
                    + " (delete that folder to run it again)", e);
        }
    }

    private static double number(JsonNode m, String field, Path dir) {
        JsonNode v = m.get(field);
        if (v == null) {
            throw new IllegalArgumentException(dir.resolve("metrics.json") + " has no '" + field + "'; was it written by"
                    + " ./densecl finetune?");
        }
        return v.isNull() ? Double.NaN : v.asDouble();
    }

    private static List<Double> list(JsonNode arr) {
        List<Double> out = new ArrayList<>();
        if (arr != null) {
            arr.forEach(v -> out.add(v.isNull() ? null : v.asDouble()));
        }
        return out;
    }

    private static List<Double> nullable(List<Double> v) {
        return java.util.Collections.unmodifiableList(new ArrayList<>(v)); // List.copyOf refuses the nulls
    }
}
