package org.densecl.backend.blas;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Hand-written FFM binding of the three OpenBLAS symbols the CPU backend uses: cblas_sgemm and the
 * thread-count pair. It is the optional "openblas" GEMM provider of the cpu backend (the pure-Java
 * "vector" provider needs nothing native), and the yardstick the vector GEMM is benchmarked against.
 *
 * <p>Loading: {@link #load()} tries, in order, the path in the system property {@code densecl.openblas}
 * or the environment variable {@code DENSECL_OPENBLAS}, the sonames {@code libopenblas.so.0} and
 * {@code libopenblas.so} through the dynamic loader (which honours LD_LIBRARY_PATH), then those names in
 * each LD_LIBRARY_PATH folder and the usual Debian/RHEL folders. When nothing loads it throws an
 * {@link IllegalStateException} listing every candidate and why it failed; there is no silent fallback.
 *
 * <p>The library is the 32-bit-integer build (blasint = int): Debian's libopenblas0-pthread. An ILP64
 * build (libopenblas64_) exports suffixed names and is deliberately not probed.
 */
public final class OpenBlas {
    // enum CBLAS_ORDER / CBLAS_TRANSPOSE values from cblas.h.
    private static final int CBLAS_ROW_MAJOR = 101;
    private static final int CBLAS_NO_TRANS = 111;
    private static final int CBLAS_TRANS = 112;

    private static final String PROPERTY = "densecl.openblas";
    private static final String ENV = "DENSECL_OPENBLAS";
    private static final List<String> SONAMES = List.of("libopenblas.so.0", "libopenblas.so");
    private static final List<String> SYSTEM_DIRS = List.of("/usr/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/aarch64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread", "/usr/lib64", "/usr/local/lib", "/opt/OpenBLAS/lib");

    private static volatile OpenBlas instance;

    /** Where the library was found (a path or soname), for logs. */
    private final String origin;

    // void cblas_sgemm(const enum CBLAS_ORDER Order, const enum CBLAS_TRANSPOSE TransA,
    //                  const enum CBLAS_TRANSPOSE TransB, const blasint M, const blasint N, const blasint K,
    //                  const float alpha, const float *A, const blasint lda, const float *B, const blasint ldb,
    //                  const float beta, float *C, const blasint ldc);
    private final MethodHandle cblasSgemm;

    // void openblas_set_num_threads(int num_threads);
    private final MethodHandle setNumThreads;

    // int openblas_get_num_threads(void);
    private final MethodHandle getNumThreads;

    private OpenBlas(SymbolLookup lib, String origin) {
        this.origin = origin;
        Linker linker = Linker.nativeLinker();
        ValueLayout i32 = ValueLayout.JAVA_INT;
        ValueLayout f32 = ValueLayout.JAVA_FLOAT;
        ValueLayout ptr = ValueLayout.ADDRESS;
        cblasSgemm = linker.downcallHandle(find(lib, "cblas_sgemm"), FunctionDescriptor.ofVoid(
                i32, i32, i32, i32, i32, i32, f32, ptr, i32, ptr, i32, f32, ptr, i32));
        setNumThreads = linker.downcallHandle(find(lib, "openblas_set_num_threads"), FunctionDescriptor.ofVoid(i32));
        getNumThreads = linker.downcallHandle(find(lib, "openblas_get_num_threads"), FunctionDescriptor.of(i32));
    }

    /** The process-wide binding, loading the library on first use; throws if it cannot be loaded. */
    public static OpenBlas load() {
        OpenBlas b = instance;
        if (b == null) {
            synchronized (OpenBlas.class) {
                b = instance;
                if (b == null) {
                    b = open();
                    instance = b;
                }
            }
        }
        return b;
    }

    /** Why {@link #load()} fails, or null when it succeeds (tests skip with this as the reason). */
    public static String unavailableReason() {
        try {
            load();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /**
     * A binding of the library at exactly {@code path}, bypassing the search (and the process-wide
     * instance). Throws with the loader's message when the file is missing or is not OpenBLAS.
     */
    public static OpenBlas loadFrom(Path path) {
        List<String> tried = new ArrayList<>();
        OpenBlas b = tryPath(path, tried);
        if (b == null) {
            throw new IllegalStateException("OpenBLAS could not be loaded from " + path + ": " + String.join("; ", tried));
        }
        return b;
    }

    /** Where the library came from: a file path or a soname resolved by the dynamic loader. */
    public String origin() {
        return origin;
    }

    /** OpenBLAS's worker-thread count; process-wide, like the library's own setting. */
    public void setThreads(int threads) {
        try {
            setNumThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw rethrow("openblas_set_num_threads", t);
        }
    }

    public int threads() {
        try {
            return (int) getNumThreads.invokeExact();
        } catch (Throwable t) {
            throw rethrow("openblas_get_num_threads", t);
        }
    }

    /**
     * Row-major C = alpha * op(A) * op(B) + beta * C on native segments, with leading dimensions as
     * stored (lda = k, or m when transA; ldb = n, or k when transB; ldc = n for dense matrices). The caller
     * checks sizes: cblas reports a bad argument only on stderr.
     */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
                      MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            cblasSgemm.invokeExact(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
                    transB ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw rethrow("cblas_sgemm", t);
        }
    }

    private static RuntimeException rethrow(String symbol, Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("OpenBLAS " + symbol + " failed: " + t, t);
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException(
                "OpenBLAS: the library has no symbol '" + name + "'; is it really OpenBLAS (32-bit int build)?"));
    }

    // ------------------------------------------------------------------ library lookup

    private static OpenBlas open() {
        List<String> tried = new ArrayList<>();
        String override = System.getProperty(PROPERTY);
        String overrideFrom = "-D" + PROPERTY;
        if (override == null || override.isBlank()) {
            override = System.getenv(ENV);
            overrideFrom = ENV;
        }
        if (override != null && !override.isBlank()) {
            // An explicit choice is the only candidate: falling back to another copy would hide a typo.
            OpenBlas b = tryPath(Path.of(override), tried);
            if (b != null) {
                return b;
            }
            throw new IllegalStateException("OpenBLAS could not be loaded from " + overrideFrom + "=" + override
                    + ": " + String.join("; ", tried));
        }
        for (String soname : SONAMES) {
            try {
                return new OpenBlas(SymbolLookup.libraryLookup(soname, Arena.global()), soname);
            } catch (IllegalArgumentException | IllegalStateException e) {
                tried.add(soname + " (dynamic loader: " + e.getMessage() + ")");
            }
        }
        for (Path dir : searchDirs()) {
            for (String soname : SONAMES) {
                Path p = dir.resolve(soname);
                if (Files.exists(p)) {
                    OpenBlas b = tryPath(p, tried);
                    if (b != null) {
                        return b;
                    }
                } else {
                    tried.add(p + " (absent)");
                }
            }
        }
        throw new IllegalStateException("OpenBLAS could not be loaded. Looked for " + SONAMES + " via the dynamic "
                + "loader, LD_LIBRARY_PATH and " + SYSTEM_DIRS + ". Install it (apt-get install "
                + "libopenblas0-pthread) or point -D" + PROPERTY + " / " + ENV + " at libopenblas.so. Tried: "
                + String.join("; ", tried));
    }

    private static OpenBlas tryPath(Path p, List<String> tried) {
        try {
            return new OpenBlas(SymbolLookup.libraryLookup(p, Arena.global()), p.toString());
        } catch (IllegalArgumentException | IllegalStateException e) {
            tried.add(p + " (" + e.getMessage() + ")");
            return null;
        }
    }

    private static Set<Path> searchDirs() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(":")) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        for (String d : SYSTEM_DIRS) {
            dirs.add(Path.of(d));
        }
        return dirs;
    }
}
