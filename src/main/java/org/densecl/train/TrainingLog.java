package org.densecl.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.densecl.data.io.AtomicFiles;
import org.densecl.data.io.WriteHook;

/**
 * The log.jsonl of a training run on resume: the records a killed run wrote past its checkpoint are dropped,
 * so the resumed run writes them again and the log ends as an uninterrupted run's. The rewrite is atomic: a
 * kill or a full disk during it leaves the log as it was, and the next resume cuts it again.
 */
public final class TrainingLog {
    private TrainingLog() {}

    /**
     * Keeps the complete records of {@code log} whose counter ({@code counter}'s group 1, e.g. "step") is at most
     * {@code upTo}; a torn last line (a kill in the middle of a write) is dropped too. No log: nothing to do.
     */
    public static void truncate(Path log, Pattern counter, long upTo) {
        truncate(log, counter, upTo, WriteHook.NONE);
    }

    /** As {@link #truncate(Path, Pattern, long)}, the new log's bytes going through {@code hook} (tests). */
    public static void truncate(Path log, Pattern counter, long upTo, WriteHook hook) {
        if (!Files.exists(log)) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + log + ": " + e.getMessage(), e);
        }
        StringBuilder keep = new StringBuilder();
        for (String line : lines) {
            Matcher m = counter.matcher(line);
            if (line.endsWith("}") && m.find() && Long.parseLong(m.group(1)) <= upTo) {
                keep.append(line).append(System.lineSeparator());
            }
        }
        byte[] bytes = keep.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(log, out -> out.write(bytes), hook);
    }
}
