package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.ToIntFunction;

/**
 * {@code bench step} (or another bench command) run in-process with its standard output and error captured, for
 * the benchmarks' tests.
 */
record StepBenchmarkRun(int code, String out, String err) {

    static StepBenchmarkRun of(String... args) {
        return of(StepBenchmark::run, args);
    }

    /** Any command's {@code run(String[])} (its exit code) with its output captured. */
    static StepBenchmarkRun of(ToIntFunction<String[]> command, String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = command.applyAsInt(args);
            return new StepBenchmarkRun(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** Each {@code bench step} case must fail with exit code 1 and one error line containing its expected text. */
    static void assertOneLineErrors(String[][] cases, String[] expected) {
        assertOneLineErrors(StepBenchmark::run, "bench step", cases, expected);
    }

    /**
     * Each case of {@code command} must fail with exit code 1 and one error line, "densecl: NAME: ..." ("densecl: ..."
     * for an empty name), containing its expected text.
     */
    static void assertOneLineErrors(ToIntFunction<String[]> command, String name, String[][] cases, String[] expected) {
        String prefix = "densecl: " + (name.isEmpty() ? "" : name + ": ");
        for (int i = 0; i < cases.length; i++) {
            StepBenchmarkRun r = of(command, cases[i]);
            String what = (name.isEmpty() ? "" : name + " ") + String.join(" ", cases[i]);
            assertEquals(1, r.code(), what + ": exit code");
            assertEquals(1, r.err().strip().lines().count(), what + ": one line expected, got: " + r.err());
            assertTrue(r.err().startsWith(prefix) && r.err().contains(expected[i]), what + ": " + r.err());
        }
    }
}
