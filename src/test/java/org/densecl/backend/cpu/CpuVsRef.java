package org.densecl.backend.cpu;

import org.densecl.backend.VsRef;

/**
 * {@link VsRef} with the cpu backend as the backend under test. It uses 4 threads even on a 2-core machine
 * so that the parallel splits (several parts, part boundaries, per-part partial sums) are exercised; tests
 * whose sizes exceed a few CpuVec.GRAIN of work get more than one part.
 */
final class CpuVsRef extends VsRef {
    final CpuBackend cpu;

    CpuVsRef() {
        this(new CpuBackend(4, "vector"));
    }

    private CpuVsRef(CpuBackend cpu) {
        super(cpu);
        this.cpu = cpu;
    }
}
