package org.densecl.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The PyTorch counterpart of a step benchmark, kept running beside ours so that the two can take turns:
 * bench/pytorch/step_bench.py (or densecl_step_bench.py) started with {@code --serve} warms up, then
 * times a block of steps each time {@link #run} asks for one.
 *
 * <p>Why take turns instead of running one after the other: this host's speed drifts by 20-30% over tens
 * of seconds (the same step measured 1.7 s and 2.7 s per step a minute apart), so two runs made back to
 * back can compare a fast minute with a slow one. Alternating blocks of a few steps samples both over the
 * same minutes. While one side runs, the other waits on a pipe and uses no CPU.
 */
final class PytorchTwin implements AutoCloseable {
    private final List<String> command;
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final String description;

    private PytorchTwin(List<String> command) throws Exception {
        this.command = command;
        this.process = new ProcessBuilder(command).redirectErrorStream(true).start();
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        String last = null;
        for (String line; (line = out.readLine()) != null; last = line) {
            if (line.equals("READY")) {
                this.description = last;
                return;
            }
        }
        throw failure("ended before it was ready" + (last != null ? " (last line: " + last + ")" : ""));
    }

    /** Starts {@code python script args... --serve} and waits until its warm-up is done. */
    static PytorchTwin start(String python, String script, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python, script));
        cmd.addAll(args);
        cmd.add("--serve");
        return new PytorchTwin(cmd);
    }

    /** The twin's one-line description: torch version, model, threads. */
    String description() {
        return description;
    }

    /** Times {@code steps} PyTorch steps now; returns their durations in seconds. */
    double[] run(int steps) throws Exception {
        in.println("RUN " + steps);
        String line = out.readLine();
        if (line == null || !line.startsWith("TIMES ")) {
            throw failure("answered " + (line == null ? "nothing" : "'" + line + "'") + " to RUN " + steps);
        }
        double[] times = Arrays.stream(line.substring(6).trim().split(" ")).mapToDouble(Double::parseDouble)
                .toArray();
        if (times.length != steps) {
            throw failure("timed " + times.length + " steps, not " + steps);
        }
        return times;
    }

    private IllegalStateException failure(String what) {
        process.destroy();
        return new IllegalStateException("bench step: " + String.join(" ", command) + " " + what);
    }

    @Override
    public void close() throws Exception {
        in.println("QUIT");
        in.close();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
