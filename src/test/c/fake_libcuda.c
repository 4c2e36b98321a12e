/*
 * A stand-in for libcuda.so.1 on machines without a GPU: the driver calls CudaDriver binds, with host
 * memory for "device" memory and launches that are recorded instead of run. CudaDriverFakeTest compiles
 * it with gcc and drives the Java binding through it, so descriptors, out-parameters, the error path and
 * the kernelParams array are exercised end to end. Linked with cuda_emulator.cpp and switched on with
 * fake_set_execute(1), launches also run the kernels on the CPU (CudaKernelsEmulatedTest). With
 * fake_set_log(1) it also writes one line per stream operation (fake_log), the order the host queued them
 * in, so tests can check which stream waits on which event and where the host synchronises:
 *   htod S | dtoh S | dtod S | memset S | launch S NAME | record E S | wait S E | sync S | ctxsync | eventsync E
 * with streams and events as hex handles.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
#define OK 0
#define ERR_INVALID_VALUE 1
#define ERR_OUT_OF_MEMORY 2
#define ERR_NOT_FOUND 500

static int live_allocations;
static char last_function[128];
static unsigned last_grid[3], last_block[3];
static uint64_t last_params[16];
static int execute;
static int logging;
static char *log_text;          /* (log_capacity) chars: the lines since fake_set_log(1) */
static size_t log_length, log_capacity;

static void note(const char *format, ...) {
    if (!logging) return;
    char line[256];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(line, sizeof line - 1, format, ap);
    va_end(ap);
    line[n] = '\n';
    if (log_length + n + 2 > log_capacity) {
        log_capacity = 2 * (log_capacity + n + 2);
        log_text = realloc(log_text, log_capacity);
    }
    memcpy(log_text + log_length, line, n + 1);
    log_length += n + 1;
    log_text[log_length] = 0;
}
#define H(p) ((unsigned long long)(uintptr_t)(p))

/* Defined by cuda_emulator.cpp when it is linked in; NULL otherwise. */
extern int emu_launch(const char *name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                      unsigned bz, void **params) __attribute__((weak));

CUresult cuInit(unsigned flags) { return flags == 0 ? OK : ERR_INVALID_VALUE; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return OK; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return OK; }
CUresult cuDeviceGet(int *dev, int ordinal) { if (ordinal != 0) return ERR_INVALID_VALUE; *dev = 0; return OK; }
CUresult cuDeviceGetName(char *name, int len, int dev) { strncpy(name, "Fake GPU", len); return OK; }
CUresult cuDeviceGetAttribute(int *v, int attr, int dev) { *v = attr == 75 ? 9 : attr == 76 ? 0 : 132; return OK; }
CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev) { *bytes = (size_t)2 << 30; return OK; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) { *ctx = (void *)0xC0; return OK; }
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { return OK; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx == (void *)0xC0 ? OK : ERR_INVALID_VALUE; }
CUresult cuCtxSynchronize(void) { note("ctxsync"); return OK; }
CUresult cuMemAlloc_v2(uint64_t *p, size_t bytes) {
    if (bytes > ((size_t)1 << 40)) return ERR_OUT_OF_MEMORY;
    *p = (uint64_t)(uintptr_t)malloc(bytes);
    live_allocations++;
    return OK;
}
CUresult cuMemFree_v2(uint64_t p) { free((void *)(uintptr_t)p); live_allocations--; return OK; }
CUresult cuMemGetInfo_v2(size_t *freeBytes, size_t *total) { *freeBytes = (size_t)1 << 30; *total = (size_t)2 << 30; return OK; }
CUresult cuMemHostAlloc(void **p, size_t bytes, unsigned flags) { *p = malloc(bytes); live_allocations++; return OK; }
CUresult cuMemFreeHost(void *p) { free(p); live_allocations--; return OK; }
CUresult cuMemcpyHtoDAsync_v2(uint64_t dst, const void *src, size_t n, void *s) { note("htod %llx", H(s)); memcpy((void *)(uintptr_t)dst, src, n); return OK; }
CUresult cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t n, void *s) { note("dtoh %llx", H(s)); memcpy(dst, (void *)(uintptr_t)src, n); return OK; }
CUresult cuMemcpyDtoDAsync_v2(uint64_t dst, uint64_t src, size_t n, void *s) { note("dtod %llx", H(s)); memcpy((void *)(uintptr_t)dst, (void *)(uintptr_t)src, n); return OK; }
CUresult cuMemsetD32Async(uint64_t dst, unsigned v, size_t n, void *s) {
    for (size_t i = 0; i < n; i++) ((unsigned *)(uintptr_t)dst)[i] = v;
    return OK;
}
CUresult cuMemsetD8Async(uint64_t dst, unsigned char v, size_t n, void *s) { note("memset %llx", H(s)); memset((void *)(uintptr_t)dst, v, n); return OK; }
CUresult cuStreamCreate(void **s, unsigned flags) { *s = malloc(1); live_allocations++; return OK; }
CUresult cuStreamDestroy_v2(void *s) { free(s); live_allocations--; return OK; }
CUresult cuStreamSynchronize(void *s) { note("sync %llx", H(s)); return OK; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned flags) { note("wait %llx %llx", H(s), H(e)); return OK; }
CUresult cuEventCreate(void **e, unsigned flags) { *e = malloc(1); live_allocations++; return OK; }
CUresult cuEventRecord(void *e, void *s) { note("record %llx %llx", H(e), H(s)); return OK; }
CUresult cuEventSynchronize(void *e) { note("eventsync %llx", H(e)); return OK; }
CUresult cuEventElapsedTime_v2(float *ms, void *a, void *b) { *ms = 1.5f; return OK; }
CUresult cuEventDestroy_v2(void *e) { free(e); live_allocations--; return OK; }
/* A module is accepted if it is a fatbin (magic 0xBA55ED50); a function handle is a copy of its name. */
CUresult cuModuleLoadData(void **m, const void *image) {
    if (*(const uint32_t *)image != 0xBA55ED50u) return ERR_INVALID_VALUE;
    *m = (void *)0xE0;
    return OK;
}
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
    if (strncmp(name, "missing", 7) == 0) return ERR_NOT_FOUND;
    *f = strdup(name);
    return OK;
}
CUresult cuModuleUnload(void *m) { return OK; }
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *s, void **params, void **extra) {
    strncpy(last_function, (const char *)f, sizeof last_function - 1);
    last_grid[0] = gx; last_grid[1] = gy; last_grid[2] = gz;
    last_block[0] = bx; last_block[1] = by; last_block[2] = bz;
    for (int i = 0; i < 16 && params; i++) memcpy(&last_params[i], params[i], 8);
    note("launch %llx %s", H(s), (const char *)f);
    if (execute && emu_launch) return emu_launch((const char *)f, gx, gy, gz, bx, by, bz, params);
    return OK;
}
CUresult cuGetErrorName(CUresult e, const char **s) {
    *s = e == ERR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" : e == ERR_NOT_FOUND ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR_INVALID_VALUE";
    return OK;
}
CUresult cuGetErrorString(CUresult e, const char **s) {
    *s = e == ERR_OUT_OF_MEMORY ? "out of memory" : e == ERR_NOT_FOUND ? "named symbol not found" : "invalid argument";
    return OK;
}

/* For the test: what the last launch carried, and how many allocations are live. */
const char *fake_last_function(void) { return last_function; }
unsigned fake_last_dim(int i) { return i < 3 ? last_grid[i] : last_block[i - 3]; }
uint64_t fake_last_param(int i) { return last_params[i]; }
int fake_live_allocations(void) { return live_allocations; }
void fake_set_execute(int on) { execute = on; }
/* Starts (on = 1, clearing what was logged) or stops the stream-operation log. */
void fake_set_log(int on) {
    logging = on;
    log_length = 0;
    if (log_text) log_text[0] = 0;
}
const char *fake_log(void) { return log_text ? log_text : ""; }
