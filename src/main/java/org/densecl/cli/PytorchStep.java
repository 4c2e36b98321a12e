package org.densecl.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One run of a PyTorch counterpart of a step benchmark (bench/pytorch/step_bench.py or
 * densecl_step_bench.py): a process of its own that warms up, times its steps and reports each step's time.
 *
 * <p>Why a fresh process per round, run while our backend's memory is freed, and not a PyTorch process
 * kept waiting beside ours: PyTorch's allocator hands large blocks back to the kernel, so each of its steps
 * page-faults hundreds of MB of fresh pages, and those faults get slower when another process holds memory
 * (docs/performance.md). Our backend allocates everything once, so our steps do not fault; the fair
 * comparison gives each side the machine to itself.
 */
final class PytorchStep {
    /** What a run reported: its one-line description (version, model, threads) and its step times (s). */
    record Result(String description, double[] times) {}

    private PytorchStep() {}

    /**
     * Runs {@code python script args...}, echoing nothing, and returns its description and step times (the
     * script's "STEPS t1 ... tn" line). Fails with one line naming the command when the script fails.
     */
    static Result run(String python, String script, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python, script));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String description = null, last = null;
        double[] times = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; last = line) {
                if (line.startsWith("STEPS ")) {
                    times = Arrays.stream(line.substring(6).trim().split(" ")).mapToDouble(Double::parseDouble)
                            .toArray();
                } else if (line.startsWith("pytorch ")) {
                    description = line.substring(0, Math.max(0, line.lastIndexOf(": "))); // without the speed
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0 || times == null) {
            throw new IllegalStateException("bench step: " + String.join(" ", cmd) + " failed (exit " + rc
                    + (last != null ? ", last line: " + last : "") + ")");
        }
        return new Result(description, times);
    }
}
