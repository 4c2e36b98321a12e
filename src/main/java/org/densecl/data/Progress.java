package org.densecl.data;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress display for long runs: count, percentage, rate and time left. On a terminal
 * the line is redrawn in place; otherwise (logs, pipes) a line is printed at most every 10 s.
 */
public final class Progress {
    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private long lastPrint;

    public Progress(PrintStream out, String label, long total) {
        this(out, label, total, System.console() != null && System.console().isTerminal());
    }

    public Progress(PrintStream out, String label, long total, boolean terminal) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.terminal = terminal;
    }

    /** Reports {@code done} items; cheap to call often (prints at most 5 times a second). */
    public synchronized void update(long done) {
        long now = System.nanoTime();
        long every = terminal ? 200_000_000L : 10_000_000_000L;
        if (done < total && now - lastPrint < every) {
            return;
        }
        lastPrint = now;
        out.print((terminal ? "\r" : "") + line(done, now) + (terminal ? "" : "\n"));
        out.flush();
    }

    /** Prints the final state and ends the line. */
    public synchronized void finish(long done) {
        out.print((terminal ? "\r" : "") + line(done, System.nanoTime()) + "\n");
        out.flush();
    }

    /** Prints a message on a line of its own (a long operation saying what it found). */
    public synchronized void note(String line) {
        out.println(line);
        out.flush();
    }

    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private String line(long done, long now) {
        double s = (now - startNanos) / 1e9;
        double rate = s > 0 ? done / s : 0;
        String eta = rate > 0 && done < total ? String.format(Locale.ROOT, " ETA %.0fs", (total - done) / rate) : "";
        return String.format(Locale.ROOT, "%s %d/%d (%.0f%%) %.0f/s %.1fs%s   ", label, done, total,
                total == 0 ? 100.0 : 100.0 * done / total, rate, s, eta);
    }

    /** Seconds as "12m05s", or "2h07m" from an hour on: ETAs and run times. */
    public static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
