package org.densecl.experiment;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a phase's own output goes while the experiment runs it in-process. pretrain and finetune print
 * their full story to System.err (the effective config, a progress line every few steps, validations); seven
 * of those in a row would bury the experiment's own lines. So for the length of a phase System.err is
 * replaced by a stream that appends every line to the phase's console.log and passes to the console only
 * warnings, the pretraining's verdict, and at most one progress line (step/iteration/simulation, which carry
 * the phase's own ETA) per {@code throttleSeconds}, indented under the phase's line. {@link #close} puts the
 * console back.
 */
public final class PhaseConsole implements AutoCloseable {
    private static final Pattern PROGRESS = Pattern.compile("^(step|iter|simulate|embed)\\b.*");
    private static final Pattern ALWAYS = Pattern.compile("(?i).*(warning|collapsed|alive:).*");

    private final PrintStream console;
    private final PrintStream previous;
    private final OutputStream file;
    private final String prefix;
    private final long throttleNanos;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private long lastProgress;
    private boolean anyProgress;

    private PhaseConsole(PrintStream console, Path log, String prefix, double throttleSeconds) throws IOException {
        this.console = console;
        this.previous = System.err;
        this.prefix = prefix;
        this.throttleNanos = (long) (throttleSeconds * 1e9);
        Files.createDirectories(log.toAbsolutePath().getParent());
        this.file = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * Sends System.err to {@code log} (appended: a resumed phase keeps the interrupted one's story) and,
     * filtered, to {@code console}.
     */
    public static PhaseConsole open(PrintStream console, Path log, String label, double throttleSeconds) {
        try {
            PhaseConsole c = new PhaseConsole(console, log, "    " + label + " | ", throttleSeconds);
            System.setErr(new PrintStream(c.sink(), true, StandardCharsets.UTF_8));
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + log + ": " + e.getMessage(), e);
        }
    }

    /** The stream the phase writes to (System.err while open). */
    private OutputStream sink() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                accept((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                for (int i = off; i < off + len; i++) {
                    accept(b[i]);
                }
            }

            @Override
            public void flush() throws IOException {
                file.flush();
            }
        };
    }

    // A terminal progress line is redrawn with '\r' (data.Progress): a line ends at either character.
    private synchronized void accept(byte b) throws IOException {
        if (b == '\n' || b == '\r') {
            if (line.size() > 0) {
                String text = line.toString(StandardCharsets.UTF_8);
                line.reset();
                file.write((text + "\n").getBytes(StandardCharsets.UTF_8));
                forward(text);
            }
        } else {
            line.write(b);
        }
    }

    private void forward(String text) {
        long now = System.nanoTime();
        if (ALWAYS.matcher(text).matches()) {
            console.println(prefix + text);
        } else if (PROGRESS.matcher(text.toLowerCase(Locale.ROOT)).matches()
                && (!anyProgress || now - lastProgress >= throttleNanos)) {
            anyProgress = true;
            lastProgress = now;
            console.println(prefix + text);
        }
    }

    @Override
    public synchronized void close() {
        System.err.flush();
        System.setErr(previous);
        try {
            if (line.size() > 0) {
                file.write((line.toString(StandardCharsets.UTF_8) + "\n").getBytes(StandardCharsets.UTF_8));
                line.reset();
            }
            file.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close a phase's console.log: " + e.getMessage(), e);
        }
    }
}
