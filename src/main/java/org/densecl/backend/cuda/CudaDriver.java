package org.densecl.backend.cuda;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Hand-written FFM binding of the CUDA driver API (libcuda.so.1), the calls the CUDA backend needs.
 * Each handle carries its C prototype; the symbol bound is the one cuda.h (CUDA 13) maps the plain name
 * to, e.g. cuMemAlloc → cuMemAlloc_v2 and cuEventElapsedTime → cuEventElapsedTime_v2 (the GPU machines'
 * drivers are >= 13). The per-thread-default-stream variants (_ptsz) are not used: every call names a
 * stream we created.
 *
 * <p>Handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction) and device pointers (CUdeviceptr,
 * an unsigned long long) are passed as Java {@code long}: on the LP64 platforms CUDA supports, a pointer
 * and a 64-bit integer travel in the same register, and a long needs no MemorySegment per call.
 * Calls in a training step (copies, memsets, launches, stream and event calls) allocate nothing; calls
 * with out-parameters (set-up only) use a confined arena for them.
 *
 * <p>Every CUresult other than CUDA_SUCCESS becomes a {@link CudaException} naming the function, the
 * error name and the error string (cuGetErrorName / cuGetErrorString).
 */
public final class CudaDriver {
    /** Override: the path of libcuda.so.1, or its folder. */
    public static final String OVERRIDE_ENV = "DENSECL_LIBCUDA";
    static final List<String> SONAMES = List.of("libcuda.so.1", "libcuda.so");

    /** CUresult CUDA_ERROR_OUT_OF_MEMORY. */
    public static final int ERROR_OUT_OF_MEMORY = 2;
    /** CUdevice_attribute values from cuda.h. */
    public static final int ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    /** CU_STREAM_NON_BLOCKING: no implicit synchronisation with the legacy NULL stream. */
    public static final int STREAM_NON_BLOCKING = 0x1;
    /** CU_EVENT_DEFAULT and CU_EVENT_DISABLE_TIMING. */
    public static final int EVENT_DEFAULT = 0x0;
    public static final int EVENT_DISABLE_TIMING = 0x2;
    /** CU_MEMHOSTALLOC_PORTABLE: pinned memory usable from every context. */
    public static final int MEMHOSTALLOC_PORTABLE = 0x1;

    private static final ValueLayout I32 = ValueLayout.JAVA_INT;
    private static final ValueLayout I64 = ValueLayout.JAVA_LONG;
    private static final ValueLayout F32 = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;
    private static final AddressLayout CSTRING = ValueLayout.ADDRESS.withTargetLayout(
            MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

    private static volatile CudaDriver instance;

    // CUresult cuInit(unsigned int Flags);
    private final MethodHandle cuInit;
    // CUresult cuDriverGetVersion(int *driverVersion);
    private final MethodHandle cuDriverGetVersion;
    // CUresult cuDeviceGet(CUdevice *device, int ordinal);
    private final MethodHandle cuDeviceGet;
    // CUresult cuDeviceGetCount(int *count);
    private final MethodHandle cuDeviceGetCount;
    // CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
    private final MethodHandle cuDeviceGetName;
    // CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev);
    private final MethodHandle cuDeviceGetAttribute;
    // CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev);
    private final MethodHandle cuDeviceTotalMem;
    // CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev);
    private final MethodHandle cuDevicePrimaryCtxRetain;
    // CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
    private final MethodHandle cuDevicePrimaryCtxRelease;
    // CUresult cuCtxSetCurrent(CUcontext ctx);
    private final MethodHandle cuCtxSetCurrent;
    // CUresult cuCtxSynchronize(void);
    private final MethodHandle cuCtxSynchronize;
    // CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize);
    private final MethodHandle cuMemAlloc;
    // CUresult cuMemFree_v2(CUdeviceptr dptr);
    private final MethodHandle cuMemFree;
    // CUresult cuMemGetInfo_v2(size_t *free, size_t *total);
    private final MethodHandle cuMemGetInfo;
    // CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags);
    private final MethodHandle cuMemHostAlloc;
    // CUresult cuMemFreeHost(void *p);
    private final MethodHandle cuMemFreeHost;
    // CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream);
    private final MethodHandle cuMemcpyHtoDAsync;
    // CUresult cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
    private final MethodHandle cuMemcpyDtoHAsync;
    // CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
    private final MethodHandle cuMemcpyDtoDAsync;
    // CUresult cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream);
    private final MethodHandle cuMemsetD32Async;
    // CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream);
    private final MethodHandle cuMemsetD8Async;
    // CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags);
    private final MethodHandle cuStreamCreate;
    // CUresult cuStreamDestroy_v2(CUstream hStream);
    private final MethodHandle cuStreamDestroy;
    // CUresult cuStreamSynchronize(CUstream hStream);
    private final MethodHandle cuStreamSynchronize;
    // CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags);
    private final MethodHandle cuStreamWaitEvent;
    // CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags);
    private final MethodHandle cuEventCreate;
    // CUresult cuEventRecord(CUevent hEvent, CUstream hStream);
    private final MethodHandle cuEventRecord;
    // CUresult cuEventSynchronize(CUevent hEvent);
    private final MethodHandle cuEventSynchronize;
    // CUresult cuEventElapsedTime_v2(float *pMilliseconds, CUevent hStart, CUevent hEnd);
    private final MethodHandle cuEventElapsedTime;
    // CUresult cuEventDestroy_v2(CUevent hEvent);
    private final MethodHandle cuEventDestroy;
    // CUresult cuModuleLoadData(CUmodule *module, const void *image);
    private final MethodHandle cuModuleLoadData;
    // CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name);
    private final MethodHandle cuModuleGetFunction;
    // CUresult cuModuleUnload(CUmodule hmod);
    private final MethodHandle cuModuleUnload;
    // CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
    //                         unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
    //                         unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra);
    private final MethodHandle cuLaunchKernel;
    // CUresult cuGetErrorName(CUresult error, const char **pStr);
    private final MethodHandle cuGetErrorName;
    // CUresult cuGetErrorString(CUresult error, const char **pStr);
    private final MethodHandle cuGetErrorString;

    private CudaDriver(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        Binder b = new Binder(linker, lib);
        cuInit = b.bind("cuInit", I32);
        cuDriverGetVersion = b.bind("cuDriverGetVersion", PTR);
        cuDeviceGet = b.bind("cuDeviceGet", PTR, I32);
        cuDeviceGetCount = b.bind("cuDeviceGetCount", PTR);
        cuDeviceGetName = b.bind("cuDeviceGetName", PTR, I32, I32);
        cuDeviceGetAttribute = b.bind("cuDeviceGetAttribute", PTR, I32, I32);
        cuDeviceTotalMem = b.bind("cuDeviceTotalMem_v2", PTR, I32);
        cuDevicePrimaryCtxRetain = b.bind("cuDevicePrimaryCtxRetain", PTR, I32);
        cuDevicePrimaryCtxRelease = b.bind("cuDevicePrimaryCtxRelease_v2", I32);
        cuCtxSetCurrent = b.bind("cuCtxSetCurrent", I64);
        cuCtxSynchronize = b.bind("cuCtxSynchronize");
        cuMemAlloc = b.bind("cuMemAlloc_v2", PTR, I64);
        cuMemFree = b.bind("cuMemFree_v2", I64);
        cuMemGetInfo = b.bind("cuMemGetInfo_v2", PTR, PTR);
        cuMemHostAlloc = b.bind("cuMemHostAlloc", PTR, I64, I32);
        cuMemFreeHost = b.bind("cuMemFreeHost", PTR);
        cuMemcpyHtoDAsync = b.bind("cuMemcpyHtoDAsync_v2", I64, PTR, I64, I64);
        cuMemcpyDtoHAsync = b.bind("cuMemcpyDtoHAsync_v2", PTR, I64, I64, I64);
        cuMemcpyDtoDAsync = b.bind("cuMemcpyDtoDAsync_v2", I64, I64, I64, I64);
        cuMemsetD32Async = b.bind("cuMemsetD32Async", I64, I32, I64, I64);
        cuMemsetD8Async = b.bind("cuMemsetD8Async", I64, ValueLayout.JAVA_BYTE, I64, I64);
        cuStreamCreate = b.bind("cuStreamCreate", PTR, I32);
        cuStreamDestroy = b.bind("cuStreamDestroy_v2", I64);
        cuStreamSynchronize = b.bind("cuStreamSynchronize", I64);
        cuStreamWaitEvent = b.bind("cuStreamWaitEvent", I64, I64, I32);
        cuEventCreate = b.bind("cuEventCreate", PTR, I32);
        cuEventRecord = b.bind("cuEventRecord", I64, I64);
        cuEventSynchronize = b.bind("cuEventSynchronize", I64);
        cuEventElapsedTime = b.bind("cuEventElapsedTime_v2", PTR, I64, I64);
        cuEventDestroy = b.bind("cuEventDestroy_v2", I64);
        cuModuleLoadData = b.bind("cuModuleLoadData", PTR, PTR);
        cuModuleGetFunction = b.bind("cuModuleGetFunction", PTR, I64, PTR);
        cuModuleUnload = b.bind("cuModuleUnload", I64);
        cuLaunchKernel = b.bind("cuLaunchKernel", I64, I32, I32, I32, I32, I32, I32, I32, I64, PTR, PTR);
        cuGetErrorName = b.bind("cuGetErrorName", I32, PTR);
        cuGetErrorString = b.bind("cuGetErrorString", I32, PTR);
    }

    /** Looks a symbol up and binds it as {@code CUresult name(args...)}. */
    private record Binder(Linker linker, SymbolLookup lib) {
        MethodHandle bind(String name, MemoryLayout... args) {
            MemorySegment symbol = lib.find(name).orElseThrow(() -> new CudaUnavailableException(
                    "the CUDA driver lacks " + name + "; a driver for CUDA 13 or newer is required"));
            return linker.downcallHandle(symbol, FunctionDescriptor.of(I32, args));
        }
    }

    /**
     * The process-wide binding: opens libcuda.so.1 and calls cuInit(0) on first use. Throws
     * {@link CudaUnavailableException} when the library is missing, or {@link CudaException} when cuInit
     * fails (no device, driver too old, ...).
     */
    public static CudaDriver load() {
        CudaDriver d = instance;
        if (d == null) {
            synchronized (CudaDriver.class) {
                d = instance;
                if (d == null) {
                    d = bind(NativeLibraries.open("the CUDA driver", SONAMES, OVERRIDE_ENV));
                    instance = d;
                }
            }
        }
        return d;
    }

    /** A binding of the driver in {@code lib}, initialised; tests bind a stand-in library this way. */
    static CudaDriver bind(SymbolLookup lib) {
        CudaDriver d = new CudaDriver(lib);
        d.init();
        return d;
    }

    /** Why {@link #load()} fails (one line), or null when it succeeds. GPU tests skip with this reason. */
    public static String unavailableReason() {
        try {
            load();
            return null;
        } catch (CudaUnavailableException | CudaException e) {
            return e.getMessage();
        }
    }

    // ---------------------------------------------------------------- device and context

    private void init() {
        check("cuInit", call(() -> (int) cuInit.invokeExact(0)));
    }

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    public int driverGetVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(I32);
            check("cuDriverGetVersion", call(() -> (int) cuDriverGetVersion.invokeExact(v)));
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public int deviceGetCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(I32);
            check("cuDeviceGetCount", call(() -> (int) cuDeviceGetCount.invokeExact(v)));
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** The CUdevice handle of an ordinal. */
    public int deviceGet(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(I32);
            check("cuDeviceGet", call(() -> (int) cuDeviceGet.invokeExact(v, ordinal)));
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public String deviceGetName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            check("cuDeviceGetName", call(() -> (int) cuDeviceGetName.invokeExact(name, 256, device)));
            return name.getString(0, StandardCharsets.UTF_8);
        }
    }

    public int deviceGetAttribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(I32);
            check("cuDeviceGetAttribute", call(() -> (int) cuDeviceGetAttribute.invokeExact(v, attribute, device)));
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public long deviceTotalMem(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(I64);
            check("cuDeviceTotalMem_v2", call(() -> (int) cuDeviceTotalMem.invokeExact(v, device)));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Retains the device's primary context (the one the runtime API, cuBLAS and cuDNN share). */
    public long devicePrimaryCtxRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(PTR);
            check("cuDevicePrimaryCtxRetain", call(() -> (int) cuDevicePrimaryCtxRetain.invokeExact(v, device)));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public void devicePrimaryCtxRelease(int device) {
        check("cuDevicePrimaryCtxRelease_v2", call(() -> (int) cuDevicePrimaryCtxRelease.invokeExact(device)));
    }

    public void ctxSetCurrent(long context) {
        int rc;
        try {
            rc = (int) cuCtxSetCurrent.invokeExact(context);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuCtxSetCurrent", rc);
    }

    public void ctxSynchronize() {
        check("cuCtxSynchronize", call(() -> (int) cuCtxSynchronize.invokeExact()));
    }

    // ---------------------------------------------------------------- memory

    /** cuMemAlloc_v2: {@code bytes} of device memory (256-byte aligned), not initialised. */
    public long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(I64);
            check("cuMemAlloc_v2(" + bytes + " bytes)", call(() -> (int) cuMemAlloc.invokeExact(v, bytes)));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public void memFree(long devicePtr) {
        check("cuMemFree_v2", call(() -> (int) cuMemFree.invokeExact(devicePtr)));
    }

    /** Free and total device memory of the current context's device, in bytes. */
    public MemInfo memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(I64);
            MemorySegment total = a.allocate(I64);
            check("cuMemGetInfo_v2", call(() -> (int) cuMemGetInfo.invokeExact(free, total)));
            return new MemInfo(free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** Device memory in bytes: what is free and the device's total. */
    public record MemInfo(long free, long total) {}

    /** Page-locked host memory of {@code bytes} bytes (a segment of that size), for async copies. */
    public MemorySegment memHostAlloc(long bytes, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(PTR);
            check("cuMemHostAlloc(" + bytes + " bytes)", call(() -> (int) cuMemHostAlloc.invokeExact(v, bytes, flags)));
            return v.get(ValueLayout.ADDRESS, 0).reinterpret(bytes);
        }
    }

    public void memFreeHost(MemorySegment pinned) {
        check("cuMemFreeHost", call(() -> (int) cuMemFreeHost.invokeExact(pinned)));
    }

    /** Host → device; {@code src} must stay untouched until the stream passes this point. */
    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        int rc;
        try {
            rc = (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuMemcpyHtoDAsync_v2", rc);
    }

    /** Device → host; {@code dst} holds the data once the stream passes this point. */
    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
        int rc;
        try {
            rc = (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuMemcpyDtoHAsync_v2", rc);
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        int rc;
        try {
            rc = (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuMemcpyDtoDAsync_v2", rc);
    }

    /** Sets {@code count} 32-bit words (a float fill passes Float.floatToRawIntBits). */
    public void memsetD32Async(long dst, int value, long count, long stream) {
        int rc;
        try {
            rc = (int) cuMemsetD32Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuMemsetD32Async", rc);
    }

    public void memsetD8Async(long dst, byte value, long count, long stream) {
        int rc;
        try {
            rc = (int) cuMemsetD8Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuMemsetD8Async", rc);
    }

    // ---------------------------------------------------------------- streams and events

    public long streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(PTR);
            check("cuStreamCreate", call(() -> (int) cuStreamCreate.invokeExact(v, flags)));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public void streamDestroy(long stream) {
        check("cuStreamDestroy_v2", call(() -> (int) cuStreamDestroy.invokeExact(stream)));
    }

    public void streamSynchronize(long stream) {
        int rc;
        try {
            rc = (int) cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuStreamSynchronize", rc);
    }

    /** Work queued on {@code stream} after this waits until {@code event} has completed. */
    public void streamWaitEvent(long stream, long event) {
        int rc;
        try {
            rc = (int) cuStreamWaitEvent.invokeExact(stream, event, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuStreamWaitEvent", rc);
    }

    public long eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(PTR);
            check("cuEventCreate", call(() -> (int) cuEventCreate.invokeExact(v, flags)));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public void eventRecord(long event, long stream) {
        int rc;
        try {
            rc = (int) cuEventRecord.invokeExact(event, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuEventRecord", rc);
    }

    public void eventSynchronize(long event) {
        check("cuEventSynchronize", call(() -> (int) cuEventSynchronize.invokeExact(event)));
    }

    /** Milliseconds between two recorded events (both created without EVENT_DISABLE_TIMING). */
    public float eventElapsedTime(long start, long end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(F32);
            check("cuEventElapsedTime_v2", call(() -> (int) cuEventElapsedTime.invokeExact(v, start, end)));
            return v.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    public void eventDestroy(long event) {
        check("cuEventDestroy_v2", call(() -> (int) cuEventDestroy.invokeExact(event)));
    }

    // ---------------------------------------------------------------- modules and launches

    /** Loads a fatbin/cubin/PTX image (native memory) into the current context. */
    public long moduleLoadData(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(PTR);
            check("cuModuleLoadData", call(() -> (int) cuModuleLoadData.invokeExact(v, image)));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public long moduleGetFunction(long module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(PTR);
            MemorySegment cName = a.allocateFrom(name);
            check("cuModuleGetFunction(" + name + ")",
                    call(() -> (int) cuModuleGetFunction.invokeExact(v, module, cName)));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public void moduleUnload(long module) {
        check("cuModuleUnload", call(() -> (int) cuModuleUnload.invokeExact(module)));
    }

    /**
     * Queues a kernel. {@code kernelParams} is a native array of pointers, one per kernel argument, each
     * pointing at that argument's value; the driver copies the values before this returns, so the
     * caller may reuse the buffers at once.
     */
    public void launchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                             int sharedBytes, long stream, MemorySegment kernelParams) {
        int rc;
        try {
            rc = (int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedBytes, stream, kernelParams, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuLaunchKernel", rc);
    }

    // ---------------------------------------------------------------- errors

    /** The error's name, e.g. CUDA_ERROR_OUT_OF_MEMORY, or "CUresult n" when the driver knows none. */
    public String errorName(int status) {
        return errorText(cuGetErrorName, status);
    }

    /** The error's description, e.g. "out of memory". */
    public String errorString(int status) {
        return errorText(cuGetErrorString, status);
    }

    private String errorText(MethodHandle h, int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(CSTRING);
            int rc = call(() -> (int) h.invokeExact(status, out));
            MemorySegment s = out.get(CSTRING, 0);
            return rc != 0 || s.equals(MemorySegment.NULL) ? "CUresult " + status : s.getString(0);
        }
    }

    /** Throws {@link CudaException} unless {@code status} is CUDA_SUCCESS. */
    void check(String function, int status) {
        if (status != 0) {
            throw new CudaException(function + " failed: " + errorName(status) + " (" + errorString(status) + ")",
                    status);
        }
    }

    /**
     * A set-up downcall returning CUresult. Calls made in a training step (copies, memsets, launches,
     * stream and event calls) are written out with try/catch instead, so no lambda is created per call.
     */
    private interface Call {
        int run() throws Throwable;
    }

    private static int call(Call c) {
        try {
            return c.run();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** invokeExact declares Throwable; a well-typed downcall only throws unchecked exceptions. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("CUDA driver downcall failed", t);
    }
}
