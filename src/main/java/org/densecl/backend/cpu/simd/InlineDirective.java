package org.densecl.backend.cpu.simd;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Tells this JVM's JIT, once, how to compile a few methods of the cpu kernels: the same as {@code jcmd <pid>
 * Compiler.directives_add}, done from inside the JVM so that every way of starting it gets it. Two rules:
 * <ul>
 *   <li>The small helpers that return vectors ({@code CpuVec}'s loads, {@code exp}, the batch norm's loads
 *       and masked ReLU) are always inlined. C2 declines to inline a method that it has already compiled on
 *       its own into a "medium" body when it judges the call site cold, and a vector returned from a call
 *       that is not inlined becomes a heap object.</li>
 *   <li>The batch norm's column-sum loops are compiled on their own, by C2 only. Inlined together into their
 *       caller they run past C2's node budget, and the helpers inside are then not inlined; on their own,
 *       C1 runs out of registers on their 16-float bodies and leaves them in C1 code, where every vector is a
 *       heap object.</li>
 * </ul>
 * Which of these happens depends on the order of compilation, so without the rules some JVMs box vectors and
 * others do not (the performance page, "Vector width", has the measurements).
 */
public final class InlineDirective {
    private static final String ALWAYS_INLINED = """
            "+org/densecl/backend/cpu/CpuVec.*", "+org/densecl/backend/cpu/CpuBatchNorm.reluMasked",
            "+org/densecl/backend/cpu/CpuBatchNorm.loadOr", "+org/densecl/backend/cpu/CpuBatchNorm.storeOr"
            """;
    private static final String COLUMN_SUMS = "org/densecl/backend/cpu/CpuBatchNorm.columnSums*";
    private static final String DIRECTIVE = "[{ match: \"" + COLUMN_SUMS + "\", c1: { Exclude: true }, inline: ["
            + ALWAYS_INLINED + "] },\n { match: \"*.*\", inline: [" + ALWAYS_INLINED + ", \"-" + COLUMN_SUMS + "\"] }]\n";
    private static volatile String outcome;

    private InlineDirective() {}

    /** {@link #install}, with one line on standard error when the directive could not be added. */
    public static void installOrWarn() {
        boolean first = outcome == null;
        String result = install();
        if (first && !result.equals("added")) {
            System.err.println("densecl: the JIT inline directive of the cpu kernels was " + result + "; some JVMs may"
                    + " box vectors and run slower (jcmd <pid> Compiler.directives_add does the same from outside)");
        }
    }

    /** Adds the directive the first time it is called; returns "added" or why not. */
    public static synchronized String install() {
        if (outcome != null) {
            return outcome;
        }
        try {
            Path file = Files.createTempFile("densecl-inline", ".json");
            try {
                Files.writeString(file, DIRECTIVE, StandardCharsets.UTF_8);
                ManagementFactory.getPlatformMBeanServer().invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                        new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            } finally {
                Files.deleteIfExists(file);
            }
            outcome = "added";
        } catch (IOException | JMException | RuntimeException e) {
            outcome = "not added (" + e + ")";
        }
        return outcome;
    }
}
