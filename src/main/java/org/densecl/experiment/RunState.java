package org.densecl.experiment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How far a run folder got, and whether it belongs to this experiment: a folder whose config.yaml differs
 * from the config this experiment would run there was made by another experiment (another recipe, labeled
 * set or size), and continuing or reusing it would mix two studies in one table.
 */
public final class RunState {
    private RunState() {}

    /**
     * Checks {@code dir}/config.yaml, when present, against the effective config {@code expectedYaml} (as the
     * command writes it) and names the first line that differs.
     */
    public static void requireSameConfig(Path dir, String expectedYaml, String what) {
        Path saved = dir.resolve("config.yaml");
        if (!Files.isRegularFile(saved)) {
            return;
        }
        List<String> have, want = expectedYaml.lines().toList();
        try {
            have = Files.readString(saved).lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + saved + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < Math.max(have.size(), want.size()); i++) {
            String a = i < have.size() ? have.get(i).trim() : "(end)", b = i < want.size() ? want.get(i).trim() : "(end)";
            if (!a.equals(b)) {
                throw new IllegalStateException(dir + " holds a " + what + " made with another config (its config.yaml"
                        + " line " + (i + 1) + " is '" + a + "', this experiment's is '" + b + "'); use another --output,"
                        + " or delete " + dir + " to redo it");
            }
        }
    }
}
