package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.ConvGeometry;
import org.junit.jupiter.api.Test;

/**
 * The host-side planning of the cuda backend, without a GPU: descriptor dims and strides for NHWC and
 * (M, C) views, algorithm choice and its per-shape cache, workspace growth, and the out-of-memory message.
 */
class CudaPlanningTest {

    @Test
    void nhwcStridesAddressEveryElementWhereRowMajorNhwcKeepsIt() {
        int n = 2, h = 3, w = 5, c = 7;
        TensorDims d = TensorDims.nhwc(n, h, w, c);
        assertEquals(new TensorDims(2, 7, 3, 5, 105, 1, 35, 7), d);
        int expected = 0;
        for (int in = 0; in < n; in++) {
            for (int ih = 0; ih < h; ih++) {
                for (int iw = 0; iw < w; iw++) {
                    for (int ic = 0; ic < c; ic++) {
                        int at = in * d.nStride() + ic * d.cStride() + ih * d.hStride() + iw * d.wStride();
                        assertEquals(expected++, at, "element (" + in + ", " + ih + ", " + iw + ", " + ic + ")");
                    }
                }
            }
        }
        assertEquals(n * h * w * c, d.numel());
    }

    @Test
    void rowsAndChannelVectorsAreNhwcWithUnitSpatialSize() {
        assertEquals(new TensorDims(10, 4, 1, 1, 4, 1, 4, 4), TensorDims.rows(10, 4));
        assertEquals(new TensorDims(1, 64, 1, 1, 64, 1, 64, 64), TensorDims.perChannel(64));
        // channels [j, j + 3) of rows of 10: element (m, i) at m * 10 + i from the block's start pointer
        TensorDims block = TensorDims.channelBlock(6, 3, 10);
        assertEquals(10, block.nStride());
        assertEquals(1, block.cStride());
    }

    @Test
    void theBestSupportedAlgorithmWithinTheLimitIsPicked() {
        List<ConvAlgo> ranked = List.of(new ConvAlgo(6, 0, 1 << 30), new ConvAlgo(1, 9, 0),
                new ConvAlgo(7, 0, 1 << 20), new ConvAlgo(0, 0, 0));
        assertEquals(6, ConvAlgo.pick(ranked, 1L << 31, "x").algo());
        assertEquals(7, ConvAlgo.pick(ranked, 1 << 21, "x").algo(), "too big: skipped; status 9: skipped");
        CudaException e = assertThrows(CudaException.class,
                () -> ConvAlgo.pick(List.of(new ConvAlgo(6, 0, 100)), 99, "FORWARD g"));
        assertTrue(e.getMessage().contains("FORWARD g") && e.getMessage().contains("99 B"), e.getMessage());
    }

    @Test
    void perfStructsAreReadAtTheirCOffsets() {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment perf = arena.allocate(2 * ConvAlgo.PERF_BYTES, 8);
            perf.set(java.lang.foreign.ValueLayout.JAVA_INT, 48, 5);                  // [1].algo
            perf.set(java.lang.foreign.ValueLayout.JAVA_INT, 52, 3);                  // [1].status
            perf.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 56, 0.25f);            // [1].time
            perf.set(java.lang.foreign.ValueLayout.JAVA_LONG, 64, 123456789012L);     // [1].memory
            assertEquals(new ConvAlgo(5, 3, 123456789012L), ConvAlgo.read(perf, 2).get(1));
        }
    }

    @Test
    void eachShapeAndDirectionIsRankedOnceAndKeepsItsAlgorithm() {
        List<String> asked = new ArrayList<>();
        ConvPlans plans = new ConvPlans((g, d) -> {
            asked.add(d + " " + g.k());
            return List.of(new ConvAlgo(g.k() % 8, 0, 1000L * g.k()));
        }, 1L << 30);
        ConvGeometry a = ConvGeometry.of(2, 8, 8, 3, 4, 3, 1, 1, 1), b = ConvGeometry.of(2, 8, 8, 3, 5, 3, 1, 1, 1);
        ConvAlgo first = plans.algo(a, ConvPlans.Direction.FORWARD);
        for (int step = 0; step < 3; step++) {
            assertSame(first, plans.algo(a, ConvPlans.Direction.FORWARD));
            plans.algo(a, ConvPlans.Direction.BACKWARD_DATA);
            plans.algo(ConvGeometry.of(2, 8, 8, 3, 4, 3, 1, 1, 1), ConvPlans.Direction.BACKWARD_FILTER); // equal key
            plans.algo(b, ConvPlans.Direction.FORWARD);
        }
        assertEquals(List.of("FORWARD 4", "BACKWARD_DATA 4", "BACKWARD_FILTER 4", "FORWARD 5"), asked);
        assertEquals(4, plans.size());
        assertEquals(5000, plans.largestWorkspace());
    }

    /** Counts allocations and frees; addresses are fake (never dereferenced). */
    static final class CountingAllocator implements DeviceAllocator {
        final List<Long> live = new ArrayList<>();
        int allocations;
        long next = 4096;

        @Override
        public MemorySegment allocate(long bytes) {
            allocations++;
            live.add(next);
            MemorySegment s = MemorySegment.ofAddress(next);
            next += bytes + 4096;
            return s;
        }

        @Override
        public void free(MemorySegment address) {
            assertTrue(live.remove((Long) address.address()), "freed twice or never allocated");
        }
    }

    @Test
    void theWorkspaceGrowsToTheLargestRequestAndThenAllocatesNothing() {
        CountingAllocator alloc = new CountingAllocator();
        int[] drains = {0};
        Workspace ws = new Workspace(alloc, () -> drains[0]++, "cuDNN workspace");
        assertEquals(MemorySegment.NULL, ws.reserve(0), "nothing asked: no allocation");
        long[] firstStep = {1000, 500, 4000, 4000, 3000};
        for (long b : firstStep) {
            ws.reserve(b);
        }
        assertEquals(2, alloc.allocations);
        assertEquals(1, drains[0], "the old buffer is freed only after the queued work");
        assertEquals(4000, ws.capacity());
        for (int step = 0; step < 5; step++) {
            for (long b : firstStep) {
                ws.reserve(b);
            }
        }
        assertEquals(2, ws.growths(), "later steps of the same shapes allocate nothing");
        assertEquals(1, alloc.live.size());
        ws.free();
        assertTrue(alloc.live.isEmpty());
    }

    @Test
    void backendNamesCarryTheOptions() {
        assertEquals(CudaOptions.defaults(), CudaOptions.parse(""));
        assertEquals(CudaPrecision.TF32, CudaOptions.defaults().precision());
        CudaOptions o = CudaOptions.parse("fp32,bn=cudnn,convws=512m");
        assertEquals(CudaPrecision.FP32, o.precision());
        assertTrue(o.cudnnBatchNorm());
        assertEquals(512L << 20, o.convWorkspaceLimit());
        assertEquals(CudaPrecision.BF16, CudaOptions.parse("BF16").precision());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse("tf16"));
        assertTrue(e.getMessage().contains("tf32 (default), fp32 (strict) or bf16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse("bn=fast"));
        // the name every command takes
        assertTrue(org.densecl.backend.Backends.known("cuda:fp32,bn=cudnn"));
        assertTrue(org.densecl.backend.Backends.NAMES.contains("cuda"));
    }

    @Test
    void outOfMemorySaysWhatWasAskedWhatIsFreeAndWhatToLower() {
        String m = OutOfDeviceMemory.message(3L << 30, 1L << 29, 80L << 30, "the activation slab");
        assertEquals("CUDA out of memory: the activation slab asked for 3.00 GiB but the device has 512.0 MiB free"
                + " of 80.00 GiB. Lower the batch size (--batch), the input size (--size) or, for DenseCL, the"
                + " queue length; or free the GPU of other processes (nvidia-smi lists them).", m);
    }
}
