package org.densecl.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** The host compilers the CUDA tests build helpers with (gcc, g++, nvcc), and running what they make. */
final class HostTools {
    private HostTools() {}

    /** The tool at {@code path}, or a skip that says, visibly, that it is missing. */
    static Path require(String path) {
        Path p = Path.of(path);
        if (!Files.isExecutable(p)) {
            String reason = p.getFileName() + " not found at " + p;
            System.out.println("SKIPPED (needs " + p.getFileName() + ") " + reason);
            Assumptions.assumeTrue(false, reason);
        }
        return p;
    }

    /** Runs a command; returns its output lines, or throws with them when it fails or takes over 5 minutes. */
    static List<String> run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
        }
        return out.lines().toList();
    }
}
