package org.densecl.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One run of a PyTorch counterpart of a benchmark (bench/pytorch/step_bench.py, densecl_step_bench.py,
 * conv_layers_bench.py): a process of its own that warms up, times its work and reports the times.
 *
 * <p>Why a fresh process per round, run while our backend's memory is freed, and not a PyTorch process
 * kept waiting beside ours: PyTorch's allocator hands large blocks back to the kernel, so each of its steps
 * page-faults hundreds of MB of fresh pages, and those faults get slower when another process holds memory
 * (docs/performance.md). Our backend allocates everything once, so our steps do not fault; the fair
 * comparison gives each side the machine to itself. (The step benchmarks close our backend first; bench
 * conv-layers frees its tensors after each layer and keeps only the backend's threads and GEMM buffers.)
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
        String description = null;
        double[] times = null;
        List<String> lines = lines("bench step", python, script, args);
        for (String line : lines) {
            if (line.startsWith("STEPS ")) {
                times = Arrays.stream(line.substring(6).trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
            } else if (line.startsWith("pytorch ")) {
                description = line.substring(0, Math.max(0, line.lastIndexOf(": "))); // without the speed
            }
        }
        if (times == null) {
            throw new IllegalStateException("bench step: " + python + " " + script + " printed no STEPS line (last"
                    + " line: " + (lines.isEmpty() ? "none" : lines.get(lines.size() - 1)) + ")");
        }
        return new Result(description, times);
    }

    /**
     * Runs {@code python script args...} and returns its output lines (standard error merged). Fails with one
     * line, prefixed by {@code command}, naming the command line, its exit code and its last line when the
     * script exits with an error.
     */
    static List<String> lines(String command, String python, String script, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python, script));
        cmd.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(command + ": cannot start " + python + " (" + e.getMessage() + "); --python"
                    + " names an interpreter with torch");
        }
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
        }
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException(command + ": " + String.join(" ", cmd) + " failed (exit " + rc
                    + (lines.isEmpty() ? "" : ", last line: " + lines.get(lines.size() - 1)) + ")");
        }
        return lines;
    }

    /**
     * The vector-ISA caps PyTorch's kernels run under, from the environment its process inherits, as the twins'
     * isa_note() reads them: "ONEDNN_MAX_CPU_ISA=AVX2", or "" for none. The list of variables is
     * bench/pytorch/step_bench.py's isa_note(); the two change together.
     */
    static String isaCaps() {
        List<String> caps = new ArrayList<>();
        for (String k : List.of("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")) {
            String v = System.getenv(k);
            if (v != null && !v.isEmpty()) {
                caps.add(k + "=" + v);
            }
        }
        return String.join(" ", caps);
    }

    /**
     * bench/pytorch/{@code name} of the checkout these classes were built from (target/classes/../..), or of
     * the working directory (a GPU machine runs the packed jar from the repository root); fails with one line,
     * prefixed by {@code command}, when there is neither.
     */
    static Path script(String command, String name) throws Exception {
        Path classes = Path.of(PytorchStep.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path p = classes.getParent().getParent().resolve("bench/pytorch/" + name);
        Path here = Path.of("bench/pytorch", name).toAbsolutePath();
        if (!Files.isRegularFile(p) && Files.isRegularFile(here)) {
            return here;
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(command + ": " + p + " not found (run from a source checkout)");
        }
        return p;
    }
}
