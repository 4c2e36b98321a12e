package org.densecl.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.densecl.data.io.AtomicFiles;

/**
 * The log of alternated step comparisons against PyTorch: one JSON object per line, one line per run of
 * {@code bench step --compare-pytorch --record FILE}, so that claims pooled over runs (sessions, hours, the
 * host's moods) come from a file anyone can re-read ({@code bench ratios}) instead of sums done by hand.
 * docs/step-ratios.jsonl holds the project's runs; the earliest were transcribed from docs/performance.md's
 * tables (their {@code source} says so), which give the rounds' ratios but not their times. {@code bench ratios}
 * groups runs by the exact text of {@code step} and {@code setup}, so rewording either (the machine line, the
 * backend's details) starts a new group.
 *
 * <pre>
 *   {"when": "2026-12-08T04:23:24Z" or a session's name, "source": "bench step --record" or where it was
 *    transcribed from, "commit": "ac0ee8e" or null, "step": what was timed, "setup": the machine line and any
 *    ISA cap, "pytorch": the twin's description or null, "roundRatios": [pytorch s/step / ours s/step, per
 *    round], "oursSeconds": [per round, mean s/step] or null, "pytorchSeconds": the same or null}
 * </pre>
 */
final class StepRatioLog {
    /**
     * One run of a comparison.
     *
     * @param when           ISO-8601 instant (UTC) or, for transcribed runs, the session that measured them
     * @param source         how the line got here
     * @param commit         the build's commit, null where unknown
     * @param step           what was timed: the twin's command line and our backend, e.g. "densecl_step_bench.py
     *                       --arch resnet50 ... --channels-last; ours cpu (vector, winograd, 2 threads)"
     * @param setup          the machine line ({@code MachineInfo.cpuLine()}) and any ISA cap on either side
     * @param pytorch        the twin's own description, null where not recorded
     * @param roundRatios    (rounds) pytorch's mean s/step over ours, per alternated round
     * @param oursSeconds    (rounds) our mean s/step per round, null where not recorded
     * @param pytorchSeconds (rounds) PyTorch's mean s/step per round, null where not recorded
     */
    record Run(String when, String source, String commit, String step, String setup, String pytorch,
               double[] roundRatios, double[] oursSeconds, double[] pytorchSeconds) {

        /** Refuses a run that cannot be pooled: no step or setup, no rounds, a ratio that is not positive. */
        Run {
            if (step == null || step.isBlank() || setup == null || setup.isBlank()) {
                throw new IllegalArgumentException("a run needs \"step\" and \"setup\"");
            }
            if (roundRatios == null || roundRatios.length == 0) {
                throw new IllegalArgumentException("a run needs \"roundRatios\" (one or more)");
            }
            for (double r : roundRatios) {
                if (!(r > 0) || Double.isInfinite(r)) {
                    throw new IllegalArgumentException("\"roundRatios\" must be positive and finite, got " + r);
                }
            }
            for (double[] s : new double[][] {oursSeconds, pytorchSeconds}) {
                if (s != null && s.length != roundRatios.length) {
                    throw new IllegalArgumentException("\"oursSeconds\" and \"pytorchSeconds\" need one value per round"
                            + " (" + roundRatios.length + "), got " + s.length);
                }
            }
        }

        /** The rounds' geometric mean: the run's one number when runs are pooled. */
        double geometricMean() {
            return StepRatioLog.geometricMean(roundRatios);
        }
    }

    // Strict: a second object on a line, a repeated key or a key of another name is an error, not a silent loss.
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private StepRatioLog() {}

    /** exp(mean of the logarithms) of one or more positive ratios. */
    static double geometricMean(double[] ratios) {
        double sum = 0;
        for (double r : ratios) {
            sum += Math.log(r);
        }
        return Math.exp(sum / ratios.length);
    }

    /**
     * Every run in {@code file}, in the file's order. Fails with one line naming the file and the line number
     * when the file is missing or a line is not a run (blank lines are skipped).
     */
    static List<Run> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file (bench step --compare-pytorch --record FILE"
                    + " writes one)");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) {
                runs.add(parse(lines.get(i), file + " line " + (i + 1)));
            }
        }
        return runs;
    }

    /** One line as a run; {@code where} prefixes the one-line error. */
    static Run parse(String line, String where) {
        try {
            return JSON.readValue(line, Run.class);
        } catch (UnrecognizedPropertyException e) {
            throw new IllegalArgumentException(where + ": unknown key \"" + e.getPropertyName() + "\" (keys: when,"
                    + " source, commit, step, setup, pytorch, roundRatios, oursSeconds, pytorchSeconds)");
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) { // the record's own check
                throw new IllegalArgumentException(where + ": not a run: " + firstLine(iae.getMessage()));
            }
            String key = e.getPath().isEmpty() ? null : e.getPath().get(0).getFieldName();
            throw new IllegalArgumentException(where + ": not a run: " + (key == null ? "" : "key \"" + key + "\": ")
                    + firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": not JSON: " + firstLine(e.getOriginalMessage()));
        }
    }

    /**
     * Appends {@code run} to {@code file} (created with its folder when missing), writing the whole file
     * through a temporary so that a reader never sees half a line. A file that does not parse is refused
     * before anything is written. Two recording runs at once take turns through a lock file beside the log
     * (".NAME.lock", removed afterwards), so neither loses the other's line.
     */
    static void append(Path file, Run run) {
        Path lock = lockFile(file);
        try {
            Files.createDirectories(lock.toAbsolutePath().getParent());
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(lock,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
                 java.nio.channels.FileLock ignored = ch.lock()) {
                // the earlier lines are kept byte for byte, once they are known to parse
                String before = "";
                if (Files.exists(file)) {
                    read(file);
                    before = Files.readString(file, StandardCharsets.UTF_8);
                }
                String sep = before.isEmpty() || before.endsWith("\n") ? "" : "\n";
                AtomicFiles.writeString(file, before + sep + line(run) + "\n");
            } finally {
                // a recorder already waiting holds the old file's lock next; only a third one could miss it
                Files.deleteIfExists(lock);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot append (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Refuses, before a run spends minutes measuring, a log it could not append to: one that does not parse,
     * or whose folder cannot be made or written.
     */
    static void checkAppendable(Path file) {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(file + ": cannot be written (a folder); name a log file");
        }
        if (Files.exists(file)) {
            read(file);
        }
        Path dir = file.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot make its folder " + dir + " (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException(file + ": cannot be written (its folder is read-only); name a log file"
                    + " this user can write");
        }
    }

    private static Path lockFile(Path file) {
        return file.toAbsolutePath().resolveSibling("." + file.getFileName() + ".lock");
    }

    /** One run as its line. */
    static String line(Run run) {
        try {
            return JSON.writeValueAsString(run);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a run as JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The commit these classes were built from: {@code git rev-parse --short HEAD} in their checkout
     * (target/classes/../..), with "-dirty" when tracked files differ from it; null without git or a checkout.
     */
    static String checkoutCommit() {
        try {
            Path classes = Path.of(StepRatioLog.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isDirectory(classes)) {
                return null; // a jar: no checkout it can be tied to
            }
            Path checkout = classes.getParent().getParent();
            String head = git(checkout, "rev-parse", "--short", "HEAD");
            if (head == null || head.isEmpty()) {
                return null;
            }
            String changes = git(checkout, "status", "--porcelain", "--untracked-files=no");
            return changes == null || changes.isEmpty() ? head : head + "-dirty";
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    // One git command's output, trimmed; null when it cannot run, fails or takes over 10 s.
    private static String git(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString()));
        cmd.addAll(List.of(args));
        try {
            // the output goes to a file, so that a hung git is stopped by the timeout instead of a blocked read
            Path out = Files.createTempFile("densecl-git", ".txt");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return null;
                }
                return p.exitValue() == 0 ? Files.readString(out).trim() : null;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
