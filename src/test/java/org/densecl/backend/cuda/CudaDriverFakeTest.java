package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver binding, CudaContext and CudaKernels' launches through a stand-in libcuda
 * (src/test/c/fake_libcuda.c, compiled here with gcc): host memory as device memory, launches recorded.
 * It exercises what a GPU-less machine otherwise never runs: every downcall's descriptor, out-parameters,
 * the error strings, the OOM message, freeing on close, and the kernelParams array as cuLaunchKernel reads
 * it. Skips, saying why, where gcc is absent.
 */
class CudaDriverFakeTest {
    @TempDir
    static Path tmp;

    private static CudaDriver driver;
    private static MethodHandle lastFunction, lastDim, lastParam, liveAllocations;

    @BeforeAll
    static void compileFake() throws IOException, InterruptedException {
        Path gcc = HostTools.require("/usr/bin/gcc");
        Path lib = tmp.resolve("libcuda.so.1");
        HostTools.run(gcc.toString(), "-shared", "-fPIC", "-O1", "-o", lib.toString(), "src/test/c/fake_libcuda.c");
        SymbolLookup fake = SymbolLookup.libraryLookup(lib, Arena.global());
        driver = CudaDriver.bind(fake);
        Linker linker = Linker.nativeLinker();
        lastFunction = linker.downcallHandle(fake.find("fake_last_function").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_BYTE)));
        lastDim = linker.downcallHandle(fake.find("fake_last_dim").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        lastParam = linker.downcallHandle(fake.find("fake_last_param").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        liveAllocations = linker.downcallHandle(fake.find("fake_live_allocations").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
    }

    @Test
    void deviceQueries() {
        assertEquals(13000, driver.driverGetVersion());
        assertEquals(1, driver.deviceGetCount());
        int dev = driver.deviceGet(0);
        assertEquals("Fake GPU", driver.deviceGetName(dev));
        assertEquals(9, driver.deviceGetAttribute(CudaDriver.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
        assertEquals(2L << 30, driver.deviceTotalMem(dev));
        CudaException e = assertThrows(CudaException.class, () -> driver.deviceGet(3));
        assertEquals("cuDeviceGet failed: CUDA_ERROR_INVALID_VALUE (invalid argument)", e.getMessage());
    }

    @Test
    void contextMemoryAndEvents() throws Throwable {
        int before = (int) liveAllocations.invokeExact();
        try (CudaContext ctx = CudaContext.open(driver, 0)) {
            long stream = ctx.mainStream();
            long dev = ctx.allocate(4 * 100); // (100) floats, zeroed
            MemorySegment pinned = ctx.allocatePinned(4 * 100);
            pinned.fill((byte) 7);
            driver.memcpyDtoHAsync(pinned, dev, 4 * 100, stream);
            assertEquals(0f, pinned.getAtIndex(ValueLayout.JAVA_FLOAT, 99));
            for (int i = 0; i < 100; i++) {
                pinned.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            }
            driver.memcpyHtoDAsync(dev, pinned, 4 * 100, stream);
            driver.memsetD32Async(dev + 4 * 50, Float.floatToRawIntBits(-1f), 2, ctx.copyStream());
            long dev2 = ctx.allocate(4 * 100);
            driver.memcpyDtoDAsync(dev2, dev, 4 * 100, stream);
            pinned.fill((byte) 0);
            driver.memcpyDtoHAsync(pinned, dev2, 4 * 100, stream);
            driver.streamSynchronize(stream);
            assertEquals(49f, pinned.getAtIndex(ValueLayout.JAVA_FLOAT, 49));
            assertEquals(-1f, pinned.getAtIndex(ValueLayout.JAVA_FLOAT, 51));
            ctx.free(dev2);

            long start = driver.eventCreate(CudaDriver.EVENT_DEFAULT), end = driver.eventCreate(CudaDriver.EVENT_DEFAULT);
            driver.eventRecord(start, stream);
            driver.eventRecord(end, stream);
            driver.streamWaitEvent(ctx.copyStream(), end);
            driver.eventSynchronize(end);
            assertEquals(1.5f, driver.eventElapsedTime(start, end));
            driver.eventDestroy(start);
            driver.eventDestroy(end);

            CudaException oom = assertThrows(CudaException.class, () -> ctx.allocate(1L << 41));
            assertEquals("CUDA out of memory: asked for 2097152.0 MiB on device 0 with 1024.0 MiB free of 2048.0 MiB;"
                    + " lower the batch size or the input size", oom.getMessage());
        }
        assertEquals(before, (int) liveAllocations.invokeExact(), "allocations left after close");
    }

    @Test
    void kernelLaunchesCarryTheirArguments() throws Throwable {
        try (CudaContext ctx = CudaContext.open(driver, 0); CudaKernels k = CudaKernels.load(ctx)) {
            long stream = ctx.mainStream();
            k.scale(stream, 0x1234L, 77, 0.5f);
            assertLaunch("scale_f32", 1, 1, 256, 1);
            assertEquals(0x1234L, (long) lastParam.invokeExact(0));
            assertEquals(77L, (long) lastParam.invokeExact(1));
            assertEquals(0.5f, Float.intBitsToFloat((int) (long) lastParam.invokeExact(2)));

            k.maxPoolForward(stream, 0x10L, 0x20L, org.densecl.backend.PoolGeometry.resnetStem(2, 9, 8, 5));
            assertLaunch("max_pool_forward_f32", 1, 1, 256, 1);
            assertEquals(2L, (long) lastParam.invokeExact(2) & 0xFFFFFFFFL);  // n
            assertEquals(4L, (long) lastParam.invokeExact(11) & 0xFFFFFFFFL); // qOut: (8 + 2 - 3) / 2 + 1

            long ws = ctx.allocate(CudaKernels.columnWorkspaceBytes(100_000, 64));
            k.biasBackward(stream, 0x30L, 0x40L, 100_000, 64, ws);
            assertLaunch("col_sum_finalize_f32", 1, 1, 256, 1);
            assertEquals(CudaKernels.reductionGroups(100_000), (long) lastParam.invokeExact(1) & 0xFFFFFFFFL);

            long counter = ctx.allocate(8);
            assertEquals(0, k.countNonFinite(stream, 0x50L, 1L << 33, counter)); // the fake runs nothing
            assertLaunch("count_nonfinite_f32", 1 << 20, 1, 256, 1);            // grid capped, grid-stride
            assertEquals(1L << 33, (long) lastParam.invokeExact(1));
        }
        CudaException e = assertThrows(CudaException.class, () -> driver.moduleGetFunction(0xE0, "missing_kernel"));
        assertEquals("cuModuleGetFunction(missing_kernel) failed: CUDA_ERROR_NOT_FOUND (named symbol not found)",
                e.getMessage());
    }

    private static void assertLaunch(String name, int gridX, int gridY, int blockX, int blockY) throws Throwable {
        MemorySegment fn = ((MemorySegment) lastFunction.invokeExact()).reinterpret(128);
        assertEquals(name, fn.getString(0));
        assertEquals(gridX, (int) lastDim.invokeExact(0), name + " gridDim.x");
        assertEquals(gridY, (int) lastDim.invokeExact(1), name + " gridDim.y");
        assertEquals(blockX, (int) lastDim.invokeExact(3), name + " blockDim.x");
        assertEquals(blockY, (int) lastDim.invokeExact(4), name + " blockDim.y");
    }
}
