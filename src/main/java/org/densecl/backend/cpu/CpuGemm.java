package org.densecl.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.Check;
import org.densecl.backend.blas.OpenBlas;
import org.densecl.backend.cpu.gemm.ASource;
import org.densecl.backend.cpu.gemm.BSource;
import org.densecl.backend.cpu.gemm.GemmTuning;
import org.densecl.backend.cpu.gemm.MatrixPanels;
import org.densecl.backend.cpu.gemm.VectorGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.Lanes;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * The cpu backend's GEMM, with the contract of {@link org.densecl.backend.Backend#gemm}: row-major
 * C = alpha * op(A) * op(B) + beta * C, where beta = 0 ignores C's old contents (even NaN).
 *
 * <p>Two providers, chosen by name and never swapped silently:
 * <ul>
 *   <li>{@code "vector"}: pure Java, {@link VectorGemm} (Vector API, packed panels, 6x16 micro-kernel),
 *       split over this backend's {@link Parallel} threads. Always available.</li>
 *   <li>{@code "openblas"}: cblas_sgemm through {@link OpenBlas} (FFM), with OpenBLAS's own thread pool
 *       set to the same thread count. Construction fails with the lookup details when the library is
 *       missing.</li>
 * </ul>
 */
public final class CpuGemm {
    /** The provider names {@link #CpuGemm} accepts. */
    public static final List<String> PROVIDERS = List.of("vector", "openblas");

    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Largest block of a view that the openblas provider writes out at once (floats): 4 MiB, so it stays in L3. */
    static final int VIEW_BLOCK_FLOATS = 1 << 20;
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private final Parallel parallel;
    private final String provider;
    private final VectorGemm vector;    // null for openblas
    private final OpenBlasGemm blas;    // null for vector
    private final MatrixPanels aPanels = new MatrixPanels();
    private final MatrixPanels bPanels = new MatrixPanels();

    /**
     * @param parallel the backend's worker threads (OpenBLAS gets the same count)
     * @param provider "vector" or "openblas"
     * @throws IllegalArgumentException for an unknown provider
     * @throws IllegalStateException when "openblas" is asked for and the library cannot be loaded
     */
    public CpuGemm(Parallel parallel, String provider) {
        this(parallel, provider, GemmTuning.DEFAULT);
    }

    /** As {@link #CpuGemm(Parallel, String)}, with the vector driver's paths chosen by {@code paths}. */
    public CpuGemm(Parallel parallel, String provider, GemmTuning paths) {
        this(parallel, provider, paths, VIEW_BLOCK_FLOATS);
    }

    /** As above, with the openblas provider writing out views in blocks of at most {@code viewBlockFloats}. */
    CpuGemm(Parallel parallel, String provider, GemmTuning paths, int viewBlockFloats) {
        this.parallel = parallel;
        this.provider = provider;
        switch (provider) {
            case "vector" -> {
                vector = new VectorGemm(parallel, paths);
                blas = null;
            }
            case "openblas" -> {
                vector = null;
                OpenBlas library = OpenBlas.load();
                // Process-wide in OpenBLAS: the last backend constructed sets it.
                library.setThreads(parallel.threads());
                blas = new OpenBlasGemm(parallel, library, viewBlockFloats);
            }
            default -> throw new IllegalArgumentException("unknown GEMM provider '" + provider + "'; choose one of "
                    + PROVIDERS);
        }
    }

    /** "vector" or "openblas". */
    public String provider() {
        return provider;
    }

    public Parallel parallel() {
        return parallel;
    }

    /** The pure-Java driver, or null when the provider is OpenBLAS. */
    VectorGemm vector() {
        return vector;
    }

    /** Whether this is the pure-Java provider, the one the direct kernels (Winograd, the stem) pair with. */
    boolean isVector() {
        return vector != null;
    }

    /** Row-major C = alpha * op(A) * op(B) + beta * C; see {@link org.densecl.backend.Backend#gemm}. */
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        Check.that(m >= 0 && n >= 0 && k >= 0, "gemm", "negative size m=" + m + " n=" + n + " k=" + k);
        String sizes = " (m=" + m + ", n=" + n + ", k=" + k + ", transA=" + transA + ", transB=" + transB + ")";
        Check.dtype("gemm", "a", a, DType.F32);
        Check.dtype("gemm", "b", b, DType.F32);
        Check.dtype("gemm", "c", c, DType.F32);
        Check.that(a.numel() == (long) m * k, "gemm", "a has shape " + a.shape() + " but needs " + (long) m * k
                + " elements" + sizes);
        Check.that(b.numel() == (long) k * n, "gemm", "b has shape " + b.shape() + " but needs " + (long) k * n
                + " elements" + sizes);
        Check.that(c.numel() == (long) m * n, "gemm", "c has shape " + c.shape() + " but needs " + (long) m * n
                + " elements" + sizes);
        gemm(transA, transB, m, n, k, alpha, a.data(), b.data(), beta, c.data(), 0L);
    }

    /**
     * The unchecked form on raw segments, used by the convolutions: C's element (i, j) is the float at
     * byte {@code cOff + 4 * (i * n + j)}.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a,
              MemorySegment b, float beta, MemorySegment c, long cOff) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            // Nothing to multiply: C = beta * C (BLAS reads neither A nor B then).
            scale(c, cOff, (long) m * n, beta);
            return;
        }
        synchronized (this) {
            try {
                run(m, n, k, alpha, aPanels.asA(a, m, k, transA), bPanels.asB(b, k, n, transB), beta, c, cOff, n);
            } finally {
                aPanels.clear();
                bPanels.clear();
            }
        }
    }

    /**
     * The one route from the convolutions to a GEMM: C = alpha * A * B + beta * C with A and B as plain
     * matrices or views (im2col, the rotated filter), whichever provider runs it. The vector driver packs
     * its panels straight from the views; OpenBLAS gets them written out block by block. C's element
     * (i, j) is the float at byte {@code cOff + 4 * (i * ldc + j)}. Sizes must be positive.
     */
    synchronized void run(int m, int n, int k, float alpha, ASource a, BSource b, float beta, MemorySegment c,
                          long cOff, int ldc) {
        if (vector != null) {
            vector.run(m, n, k, alpha, a, b, beta, c, cOff, ldc);
        } else {
            blas.run(m, n, k, alpha, a, b, beta, c, cOff, ldc);
        }
    }

    /** x = beta * x over {@code count} floats from byte {@code off}; beta = 0 writes zeros (NaN is dropped). */
    static void scale(MemorySegment x, long off, long count, float beta) {
        if (beta == 1f) {
            return;
        }
        if (beta == 0f) {
            x.asSlice(off, 4 * count).fill((byte) 0);
            return;
        }
        long i = 0;
        for (; i + S.length() <= count; i += S.length()) {
            long o = off + 4 * i;
            FloatVector.fromMemorySegment(S, x, o, LE).mul(beta).intoMemorySegment(x, o, LE);
        }
        for (; i < count; i++) {
            long o = off + 4 * i;
            x.set(F32, o, beta * x.get(F32, o));
        }
    }
}
