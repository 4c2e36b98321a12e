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

    /**
     * "  huge pages: 1480.0 of 1520.0 MiB": how much of the memory mapped for transparent huge pages the kernel
     * really backs with 2 MiB pages (AnonHugePages of /proc/self/smaps_rollup, which also counts any other
     * anonymous memory on huge pages). The kernel gives them only when it finds free 2 MiB blocks, so this
     * varies with the machine's memory fragmentation, and a step whose tensors sit on 4 KiB pages misses
     * the TLB in every pass over its activations.
     */
    static String hugePageLine() {
        long backed = StepBenchmark.procBytes("/proc/self/smaps_rollup", "AnonHugePages");
        long mapped = org.densecl.backend.HugePages.liveBytes();
        return backed < 0 ? "  huge pages: n/a (no /proc/self/smaps_rollup)"
                : String.format("  huge pages: %.1f of %.1f MiB", backed / 1048576.0, mapped / 1048576.0);
    }
}
