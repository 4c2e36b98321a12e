package org.densecl.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A JMH auxiliary counter of floating-point operations: a benchmark adds its documented FLOP count per
 * call, and in Throughput mode with seconds as the unit JMH prints the secondary result
 * {@code <bench>:flop} in ops/s, i.e. the achieved FLOP/s (divide by 1e9 for GFLOP/s).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class FlopCounter {
    /** FLOPs done in this iteration. */
    public long flop;

    @Setup(Level.Iteration)
    public void reset() {
        flop = 0;
    }
}
