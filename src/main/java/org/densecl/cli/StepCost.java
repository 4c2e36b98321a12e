package org.densecl.cli;

import java.lang.management.ManagementFactory;

/**
 * What the timed steps cost besides wall time: the process's CPU time and the Java heap it allocated.
 * A step allocates nothing on the heap when every kernel runs as compiled vector code; a kernel whose
 * vectors the JIT failed to keep in registers allocates one box per vector operation, so megabytes per
 * step here point at a JIT cliff. CPU time, unlike wall time, barely moves when another process shares
 * the cores, so the two together tell a slow JVM from a busy machine.
 */
final class StepCost {
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long heapBytes;
    private long cpuNanos;
    private int steps;
    private long heapAtStart;
    private long cpuAtStart;

    /** Starts a measured stretch of steps. */
    void start() {
        heapAtStart = threads.getTotalThreadAllocatedBytes();
        cpuAtStart = os.getProcessCpuTime();
    }

    /** Ends the stretch begun by {@link #start()}, which covered {@code count} steps. */
    void stop(int count) {
        heapBytes += threads.getTotalThreadAllocatedBytes() - heapAtStart;
        cpuNanos += os.getProcessCpuTime() - cpuAtStart;
        steps += count;
    }

    double heapMibPerStep() {
        return steps == 0 ? 0 : heapBytes / (double) steps / (1 << 20);
    }

    double cpuSecondsPerStep() {
        return steps == 0 ? 0 : cpuNanos * 1e-9 / steps;
    }

    /** "  per timed step: CPU 3.41 s (all threads), Java heap allocated 0.02 MiB". */
    String line() {
        return String.format("  per timed step: CPU %.3f s (all threads), Java heap allocated %.2f MiB", cpuSecondsPerStep(),
                heapMibPerStep());
    }
}
