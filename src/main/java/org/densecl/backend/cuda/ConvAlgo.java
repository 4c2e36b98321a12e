package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of cuDNN's algorithm ranking (cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, the three
 * structs share one layout), and the rule that picks the algorithm a convolution shape keeps for good:
 * the best-ranked entry that cuDNN reports as supported and whose workspace fits the limit.
 *
 * @param algo   the cudnnConvolution*Algo_t value
 * @param status cudnnStatus_t: 0 means the algorithm supports this shape
 * @param memory workspace bytes it needs
 */
record ConvAlgo(int algo, int status, long memory) {
    /*
     * typedef struct { cudnnConvolutionFwdAlgo_t algo; cudnnStatus_t status; float time; size_t memory;
     *                  cudnnDeterminism_t determinism; cudnnMathType_t mathType; int reserved[3]; }
     * offsets 0, 4, 8, 16 (size_t aligned to 8), 24, 28, 32; 44 bytes rounded up to 48.
     */
    static final long PERF_BYTES = 48;
    private static final long ALGO = 0, STATUS = 4, MEMORY = 16;
    private static final int CUDNN_STATUS_NOT_SUPPORTED = 3000; // cudnnStatus_t in cuDNN 9

    /** The first {@code count} entries of a perf array cuDNN filled. */
    static List<ConvAlgo> read(MemorySegment perf, int count) {
        List<ConvAlgo> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long base = i * PERF_BYTES;
            out.add(new ConvAlgo(perf.get(ValueLayout.JAVA_INT, base + ALGO), perf.get(ValueLayout.JAVA_INT,
                    base + STATUS), perf.get(ValueLayout.JAVA_LONG, base + MEMORY)));
        }
        return out;
    }

    /**
     * The first supported entry needing at most {@code limitBytes} of workspace (cuDNN ranks fastest first),
     * or an exception naming the shape when none is.
     */
    static ConvAlgo pick(List<ConvAlgo> ranked, long limitBytes, String what) {
        for (ConvAlgo a : ranked) {
            if (a.status == 0 && a.memory <= limitBytes) {
                return a;
            }
        }
        throw new CudaException("cuDNN offers no algorithm for " + what + " within a workspace of "
                + DeviceBytes.format(limitBytes) + " (ranking: " + ranked + "); raise the workspace limit",
                CUDNN_STATUS_NOT_SUPPORTED);
    }
}
