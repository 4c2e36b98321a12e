package org.densecl.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.data.io.AtomicFiles;

/**
 * results.json: the experiment's numbers for scripts. One record per run ({"arm", "trial", "miou", "iou",
 * "dice", "iterations", ...}, metrics in percent, copied from the run's metrics.json: "dice" is the per-class
 * list, "mdice" its mean), each with its validation curve and labeled subset; the pretraining's summary.json
 * under "pretrain"; and per labeled-set size the comparisons of the report. Only a function of the runs'
 * files (no times, no paths outside the folder), so re-running a finished experiment rewrites the same bytes.
 * Non-finite numbers are written as null.
 */
public final class ResultsJson {
    public static final String QUESTION = "Does DenseCL pretraining on unlabeled ultrasound help segmentation when"
            + " labels are scarce?";

    private ResultsJson() {}

    /** Writes {@code output}/results.json. */
    public static void write(Path output, StudyResults s, JsonNode pretrainSummary, int trials) {
        Path file = output.resolve("results.json");
        Map<String, Object> root = new LinkedHashMap<>(); // ordered: the same results, the same bytes
        root.put("question", QUESTION);
        root.put("trials", trials);
        root.put("sizes", s.sizes());
        root.put("train_images", s.trainCounts());
        Map<String, Object> pre = new LinkedHashMap<>();
        pre.put("folder", "pretrain");
        pre.put("summary", pretrainSummary);
        root.put("pretrain", pre);
        List<Object> runs = new ArrayList<>();
        for (RunResult r : s.runs()) {
            runs.add(run(r, s, output));
        }
        root.put("runs", runs);
        List<Object> summary = new ArrayList<>();
        for (int size : s.sizes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("size", size);
            m.put("train_images", s.trainCount(size));
            m.put("miou", comparison(s.miou(size)));
            m.put("mdice", comparison(s.mdice(size)));
            m.put("recess_iou", comparison(s.recessIou(size)));
            StudyResults.Reach reach = s.reach(size);
            Map<String, Object> rm = new LinkedHashMap<>();
            rm.put("kaiming_final_val_miou_mean", finite(reach.threshold()));
            rm.put("iterations", reach.iterations());
            rm.put("densecl_mean_curve_iteration", reach.meanCurve() < 0 ? null : reach.meanCurve());
            rm.put("densecl_trial_iterations", reach.perTrial().stream().map(i -> i < 0 ? null : i).toList());
            m.put("reach", rm);
            summary.add(m);
        }
        root.put("summary", summary);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(file, out -> out.write(json.writeValueAsBytes(root)));
    }

    private static Map<String, Object> run(RunResult r, StudyResults s, Path output) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arm", r.spec().arm());
        m.put("trial", r.spec().trial());
        m.put("seed", r.spec().trial());
        m.put("size", r.spec().size());
        m.put("train_images", s.trainCount(r.spec().size()));
        m.put("folder", r.spec().relative(output));
        m.put("miou", finite(r.miou()));
        m.put("mdice", finite(r.mdice()));
        m.put("acc", finite(r.acc()));
        m.put("iou", r.iou());
        m.put("dice", r.dice());
        m.put("iterations", r.iterations());
        m.put("best_val_miou", finite(r.bestValMiou()));
        m.put("best_val_iteration", r.bestValIteration());
        List<Object> curve = new ArrayList<>();
        for (RunResult.CurvePoint p : r.curve()) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("iteration", p.iteration());
            c.put("val_miou", finite(p.miou()));
            c.put("val_mdice", finite(p.mdice()));
            curve.add(c);
        }
        m.put("curve", curve);
        m.put("train_subset", r.trainImages());
        return m;
    }

    private static Map<String, Object> comparison(Comparison c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("densecl", stats(c.densecl()));
        m.put("kaiming", stats(c.kaiming()));
        m.put("gap", finite(c.gap()));
        m.put("larger_std", finite(c.largerStd()));
        m.put("exceeds_spread", c.exceedsSpread());
        m.put("paired_t", finite(c.pairedT()));
        m.put("df", c.df());
        m.put("t_critical_5pct", finite(c.tCritical()));
        m.put("significant_5pct", c.significant());
        return m;
    }

    private static Map<String, Object> stats(Comparison.Stats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", finite(s.mean()));
        m.put("std", finite(s.std()));
        m.put("n", s.n());
        return m;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** Reads a JSON file as a tree (the pretraining's summary.json). */
    public static JsonNode readTree(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
