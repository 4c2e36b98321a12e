package org.densecl.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code bench fresh-jvms} reads back from one child's {@code bench step --profile} output: the
 * step times, the CPU time and heap allocated per step, and the milliseconds per step of every profiled
 * op (by shape).
 *
 * @param meanSeconds   mean wall seconds per timed step
 * @param minSeconds    the fastest timed step, in seconds
 * @param medianSeconds median wall seconds per timed step
 * @param cpuSeconds    CPU seconds per timed step, all threads
 * @param heapMib       Java heap MiB allocated per timed step
 * @param hugePageMib   MiB of the tensors the kernel backed with 2 MiB pages, -1 where not reported
 * @param opMillis      op (with its shape) -> milliseconds per step
 * @param machine       the child's machine line (CPU, ISA, the floats its kernels used), "" where not reported
 */
record StepRunOutput(double meanSeconds, double minSeconds, double medianSeconds, double cpuSeconds, double heapMib,
                     double hugePageMib, Map<String, Double> opMillis, String machine) {

    private static final Pattern STEP = Pattern.compile(
            "images/s, ([0-9.]+) s/step \\(min ([0-9.]+), median ([0-9.]+), max [0-9.]+\\)");
    private static final Pattern COST = Pattern.compile(
            "per timed step: CPU ([0-9.]+) s \\(all threads\\), Java heap allocated ([0-9.]+) MiB");
    private static final Pattern HUGE = Pattern.compile("huge pages: ([0-9.]+) of [0-9.]+ MiB");
    private static final Pattern MACHINE = Pattern.compile("(?m)^  machine: (.*)$");
    // "            conv2dForward 3x3/1 256->256 at 14x14        5      57.3    2.4%    161.3"
    private static final Pattern OP_ROW = Pattern.compile("^ {12}(\\S.*?)\\s+([0-9]+)\\s+([0-9.]+)\\s+[0-9.]+%.*$");

    /** Parses the output; throws naming what is missing when it is not a finished profiled step run. */
    static StepRunOutput parse(String text) {
        Matcher step = STEP.matcher(text);
        Matcher cost = COST.matcher(text);
        if (!step.find() || !cost.find()) {
            throw new IllegalStateException("no 's/step' or 'per timed step' line in the step benchmark's output");
        }
        Map<String, Double> ops = new LinkedHashMap<>();
        boolean perShape = false;
        for (String line : text.split("\n")) {
            if (line.startsWith("  per step: ")) {
                perShape = true;
            } else if (line.startsWith("  by op: ")) {
                perShape = false;
            } else if (perShape) {
                Matcher row = OP_ROW.matcher(line);
                if (row.matches() && !row.group(1).startsWith("(") && !row.group(1).equals("all ops")) {
                    ops.put(row.group(1), Double.parseDouble(row.group(3)));
                }
            }
        }
        Matcher huge = HUGE.matcher(text);
        Matcher machine = MACHINE.matcher(text);
        return new StepRunOutput(Double.parseDouble(step.group(1)), Double.parseDouble(step.group(2)),
                Double.parseDouble(step.group(3)), Double.parseDouble(cost.group(1)), Double.parseDouble(cost.group(2)),
                huge.find() ? Double.parseDouble(huge.group(1)) : -1, ops, machine.find() ? machine.group(1).trim() : "");
    }
}
