package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The driver binding. The probe test runs everywhere; the device tests skip, printing the reason, where
 * no driver or device loads.
 */
class CudaDriverTest {

    @Test
    void probeGivesTheDeviceOrOneLineReason() {
        CudaProbe p = CudaDevices.probe();
        String line = p.describe();
        assertFalse(line.contains("\n"), line);
        if (p.available()) {
            assertTrue(p.deviceCount() > 0 && p.totalBytes() > 0 && p.ccMajor() >= 5, line);
        } else {
            assertTrue(line.startsWith("unavailable: "), line);
            assertEquals(p.reason(), CudaDriver.unavailableReason());
        }
    }

    @Test
    void allocateCopyAndMemsetRoundTrip() {
        GpuTests.assumeDevice();
        try (CudaContext ctx = CudaContext.open(0)) {
            CudaDriver d = ctx.driver();
            long stream = ctx.mainStream();
            long dev = ctx.allocate(4 * 1000); // (1000) floats
            MemorySegment host = ctx.allocatePinned(4 * 1000);
            for (int i = 0; i < 1000; i++) {
                host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f);
            }
            d.memcpyHtoDAsync(dev, host, 4 * 1000, stream);
            d.memsetD32Async(dev + 4 * 10, Float.floatToRawIntBits(-2f), 5, stream);
            host.fill((byte) 0);
            d.memcpyDtoHAsync(host, dev, 4 * 1000, stream);
            d.streamSynchronize(stream);
            for (int i = 0; i < 1000; i++) {
                float want = i >= 10 && i < 15 ? -2f : i * 0.5f;
                assertEquals(want, host.getAtIndex(ValueLayout.JAVA_FLOAT, i), "element " + i);
            }
        }
    }

    @Test
    void outOfMemorySaysWhatToChange() {
        GpuTests.assumeDevice();
        try (CudaContext ctx = CudaContext.open(0)) {
            CudaException e = assertThrows(CudaException.class, () -> ctx.allocate(1L << 50));
            assertTrue(e.getMessage().contains("lower the batch size or the input size"), e.getMessage());
            assertEquals(CudaDriver.ERROR_OUT_OF_MEMORY, e.status());
        }
    }

    @Test
    void eventsTimeAStream() {
        GpuTests.assumeDevice();
        try (CudaContext ctx = CudaContext.open(0)) {
            CudaDriver d = ctx.driver();
            long start = d.eventCreate(CudaDriver.EVENT_DEFAULT), end = d.eventCreate(CudaDriver.EVENT_DEFAULT);
            long buf = ctx.allocate(1 << 20);
            d.eventRecord(start, ctx.mainStream());
            d.memsetD8Async(buf, (byte) 1, 1 << 20, ctx.mainStream());
            d.eventRecord(end, ctx.mainStream());
            d.streamWaitEvent(ctx.copyStream(), end);
            d.eventSynchronize(end);
            assertTrue(d.eventElapsedTime(start, end) >= 0);
            d.eventDestroy(start);
            d.eventDestroy(end);
        }
    }
}
