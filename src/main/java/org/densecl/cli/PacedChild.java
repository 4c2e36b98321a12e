package org.densecl.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.densecl.data.io.AtomicFiles;

/**
 * A child JVM running {@code bench step --paced}: it runs a step only when told to, so that two JVMs (a
 * fresh one and a reference) can take turns on the cores, one step each, and a host that drifts slows
 * both alike. Everything the child prints is kept and written to its log when it ends.
 */
final class PacedChild implements AutoCloseable {
    private static final String READY = "PACED READY";
    private static final String TIME = "PACED TIME ";

    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    private final Path log;
    private final StringBuilder text = new StringBuilder();
    private boolean ready; // the child has said it waits for its next step

    /** Starts {@code command} (a {@code bench step --paced} child) and waits until it is ready for its first step. */
    PacedChild(List<String> command, Path log) throws IOException {
        this.log = log;
        this.process = new ProcessBuilder(command).redirectErrorStream(true).start();
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        awaitReady();
    }

    /** Runs one step and returns its seconds, once the child has said it is ready for it. */
    double step() throws IOException {
        awaitReady();
        in.write("step\n");
        in.flush();
        ready = false;
        String line = readUntil(TIME);
        return Double.parseDouble(line.substring(TIME.length()));
    }

    // Blocks until the child waits for its next step (it has built its model, or finished the last one).
    private void awaitReady() throws IOException {
        if (!ready) {
            readUntil(READY);
            ready = true;
        }
    }

    /** Reads the rest of the output, waits for the exit, writes the log; returns the whole output. */
    String finish() throws IOException, InterruptedException {
        in.close();
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            keep(line);
        }
        int rc = process.waitFor();
        writeLog();
        if (rc != 0) {
            throw new IllegalStateException("bench fresh-jvms: a step benchmark failed with exit code " + rc
                    + "; its output is in " + log);
        }
        return text.toString();
    }

    // Reads lines until one starts with `prefix` (returned); keeps every line but the pacing ones.
    private String readUntil(String prefix) throws IOException {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith(prefix)) {
                return line;
            }
            keep(line);
        }
        writeLog();
        throw new IllegalStateException("bench fresh-jvms: a step benchmark ended before '" + prefix.trim()
                + "'; its output is in " + log);
    }

    private void keep(String line) {
        if (!line.startsWith("PACED ")) {
            text.append(line).append('\n');
        }
    }

    private void writeLog() throws IOException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        AtomicFiles.write(log, o -> o.write(text.toString().getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
