package org.densecl.densecl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.densecl.data.io.AtomicFiles;

/**
 * Whether a pretraining run's global head ended alive or collapsed, judged from its log.jsonl: the means
 * over the last {@code window} share of the steps of q_std and of sim_pos - sim_neg ({@link EmbeddingStats}).
 * A collapsed head maps every image to about one direction (q_std near 0) and scores positives no higher
 * than other images (gap near 0); its loss sits at ln(K + 1) and its gradient vanishes, so it does not
 * come back. {@code pretrain} prints the verdict and writes it to summary.json; the experiment and the
 * robustness sweep read that file.
 *
 * @param steps      steps in the log
 * @param window     steps averaged (the last share of the run)
 * @param qStd       mean q_std over the window
 * @param simPos     mean sim_pos over the window
 * @param simNeg     mean sim_neg over the window
 * @param deadHidden mean share of dead hidden ReLUs of the global head over the window
 * @param lossGlobal mean weighted global loss over the window
 * @param lossDense  mean weighted dense loss over the window
 * @param alive      q_std and the gap both at or above their thresholds
 * @param limits     the thresholds used
 */
public record PretrainVerdict(long steps, long window, double qStd, double simPos, double simNeg, double deadHidden,
                              double lossGlobal, double lossDense, boolean alive, Limits limits) {

    /**
     * Alive means {@code qStd >= minQStd} and {@code simPos - simNeg >= minGap}, averaged over the last
     * {@code windowShare} of the steps. Random unit vectors in D dims give q_std about 1 and gap 0 before
     * training; the README's alive runs end near q_std 0.45 and gap 0.2, collapsed ones near 0.1 and 0.
     */
    public record Limits(double minQStd, double minGap, double windowShare) {
        public static final Limits DEFAULT = new Limits(0.25, 0.05, 0.10);

        public Limits {
            if (!(windowShare > 0 && windowShare <= 1)) {
                throw new IllegalArgumentException("PretrainVerdict: windowShare " + windowShare + " must be in (0, 1]");
            }
        }
    }

    public double gap() {
        return simPos - simNeg;
    }

    /** The verdict on the records of {@code log} (one JSON object per step, as pretrain writes). */
    public static PretrainVerdict of(Path log, Limits limits) {
        List<JsonNode> records = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try {
            for (String line : Files.readAllLines(log)) {
                if (!line.isBlank()) {
                    records.add(json.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the pretraining log " + log + ": " + e.getMessage(), e);
        }
        if (records.isEmpty()) {
            throw new IllegalArgumentException(log + " has no steps: nothing to judge");
        }
        int n = records.size();
        int window = Math.max(1, (int) Math.round(n * limits.windowShare()));
        List<JsonNode> tail = records.subList(n - window, n);
        double qStd = mean(tail, "q_std", log), pos = mean(tail, "sim_pos", log), neg = mean(tail, "sim_neg", log);
        boolean alive = qStd >= limits.minQStd() && pos - neg >= limits.minGap();
        return new PretrainVerdict(records.get(n - 1).path("step").asLong(n), window, qStd, pos, neg,
                mean(tail, "dead_hidden", log), mean(tail, "loss_global", log), mean(tail, "loss_dense", log), alive,
                limits);
    }

    /** Reads a summary.json written by {@link #write}. */
    public static PretrainVerdict read(Path summary) {
        try {
            JsonNode s = new ObjectMapper().readTree(summary.toFile());
            JsonNode l = s.path("limits");
            return new PretrainVerdict(s.path("steps").asLong(), s.path("window_steps").asLong(), s.path("q_std").asDouble(),
                    s.path("sim_pos").asDouble(), s.path("sim_neg").asDouble(), s.path("dead_hidden").asDouble(),
                    s.path("loss_global").asDouble(), s.path("loss_dense").asDouble(), s.path("alive").asBoolean(),
                    new Limits(l.path("min_q_std").asDouble(), l.path("min_sim_gap").asDouble(),
                            l.path("window_share").asDouble()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + summary + ": " + e.getMessage()
                    + " (written by ./densecl pretrain at the end of a run)", e);
        }
    }

    /** One line for the console: the verdict and the numbers behind it. */
    public String line() {
        return String.format(Locale.ROOT, "global head %s: mean of the last %d steps q_std %.3f (alive >= %.2f),"
                        + " sim_pos - sim_neg %.3f (alive >= %.2f), dead hidden units %.0f%%",
                alive ? "ALIVE" : "COLLAPSED", window, qStd, limits.minQStd(), gap(), limits.minGap(), 100 * deadHidden);
    }

    /** What to do about a collapsed run; empty when alive. */
    public String advice() {
        return alive ? "" : "the global embedding maps the images to about one direction, so the backbone learned"
                + " little about telling images apart and transfers poorly. Try model.neckBatchNorm true (a BN in the"
                + " global head, which kept every run of the quick recipe's sweep alive), a lower optim.lr or a longer"
                + " optim.warmupSteps, or crops that keep more of each image (data.cropScale); configs/densecl_quick.yaml"
                + " explains the recipe";
    }

    /** Writes summary.json atomically: the verdict, its numbers and thresholds, and {@code extra} fields. */
    public void write(Path summary, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("verdict", alive ? "alive" : "collapsed");
        m.put("alive", alive);
        m.put("steps", steps);
        m.put("window_steps", window);
        m.put("q_std", qStd);
        m.put("sim_pos", simPos);
        m.put("sim_neg", simNeg);
        m.put("sim_gap", gap());
        m.put("dead_hidden", deadHidden);
        m.put("loss_global", lossGlobal);
        m.put("loss_dense", lossDense);
        Map<String, Object> l = new LinkedHashMap<>(); // ordered: the same run writes the same bytes
        l.put("min_q_std", limits.minQStd());
        l.put("min_sim_gap", limits.minGap());
        l.put("window_share", limits.windowShare());
        m.put("limits", l);
        if (!alive) {
            m.put("advice", advice());
        }
        m.putAll(extra);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(summary, out -> out.write(json.writeValueAsBytes(m)));
    }

    private static double mean(List<JsonNode> records, String field, Path log) {
        double sum = 0;
        for (JsonNode r : records) {
            JsonNode v = r.get(field);
            if (v == null || !v.isNumber()) {
                throw new IllegalArgumentException(log + ": step " + r.path("step").asText("?") + " has no number '"
                        + field + "'; was it written by ./densecl pretrain?");
            }
            sum += v.asDouble();
        }
        return sum / records.size();
    }
}
