package org.densecl.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.densecl.data.io.AtomicFiles;

/**
 * DIR/timings.json: the wall seconds each phase took, added up over the invocations that worked on it (an
 * interrupted run and its continuation), so the report can state the cost of the whole study even when it
 * was run in pieces. Written atomically after every phase.
 */
public final class Timings {
    private final Path file;
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    private Timings(Path file) {
        this.file = file;
    }

    /** The file's phases, or none when it does not exist yet. */
    public static Timings load(Path file) {
        Timings t = new Timings(file);
        if (Files.isRegularFile(file)) {
            try {
                JsonNode n = new ObjectMapper().readTree(file.toFile());
                n.fields().forEachRemaining(e -> t.seconds.put(e.getKey(), e.getValue().asDouble()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage() + " (delete it: only the"
                        + " report's times come from it)", e);
            }
        }
        return t;
    }

    /** Adds {@code s} seconds to {@code phase} and saves. */
    public void add(String phase, double s) {
        seconds.merge(phase, s, Double::sum);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(file, out -> out.write(json.writeValueAsBytes(seconds)));
    }

    /** Seconds of one phase (NaN when it never ran in this folder, e.g. it was copied in). */
    public double get(String phase) {
        return seconds.getOrDefault(phase, Double.NaN);
    }

    /** Sum over the phases whose name starts with {@code prefix}, and how many there are. */
    public double[] sum(String prefix) {
        double s = 0;
        int n = 0;
        for (var e : seconds.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                s += e.getValue();
                n++;
            }
        }
        return new double[] {s, n};
    }
}
