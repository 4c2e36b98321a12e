package org.densecl.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.densecl.backend.PoolGeometry;

/**
 * Our kernels (native/*.cu) loaded into one context, with one typed Java method per operation that
 * computes the grid, packs the arguments and queues the launch on the given stream. Each method names
 * the kernels it launches with their C prototypes; Java arguments follow the C order.
 *
 * <p>Conventions: device pointers and streams are {@code long} (Tensor.data().address() for a device
 * tensor; 0 is NULL); element counts are {@code long}; the caller has made the context current
 * ({@link CudaContext#makeCurrent()}) and checked shapes (the backend does both). Ops of several kernels
 * (the two-pass reductions, the cross-entropy with its label check) take a {@code workspace}: device
 * memory of at least the size the matching {@code ...WorkspaceBytes} method gives, grown once by the
 * backend, never allocated here.
 *
 * <p>Launches allocate nothing: the kernelParams array is a {@link KernelArgs} allocated once, shared by
 * all launches of this object under a lock (packing and cuLaunchKernel take a few microseconds; the
 * driver copies the values before the call returns).
 *
 * <p>Recipes with cuBLAS between the kernels (native/contrastive.cu says the same):
 * <ul>
 *   <li>denseMatch: a strided batched GEMM Sim[n] = qb[n] kb[n]^T into an (N * S2, S2) scratch, then
 *       {@link #denseMatchArgmax}; denseGather: {@link #denseGather} with a bad-index record the backend
 *       reads at its next synchronisation ({@link #badIndex}).</li>
 *   <li>infoNceLoss, per block of rows with an (Rb, K + 1) logits scratch L (row stride K + 1): GEMM
 *       L[:, 1:] = U Q^T (ldc K + 1); {@link #infoNcePositiveLogit}; {@link #infoNceSoftmax} (rowLoss at the
 *       block's offset, gradScale = weight / tau); when dAnchors is wanted, GEMM dU += L[:, 1:] Q (lda K + 1,
 *       beta 1) and {@link #infoNcePositiveGrad}; after the last block {@link #infoNceLossSum}.</li>
 *   <li>batchNormTrainForward: {@link #batchNormStats} then {@link #batchNormApply} (residual 0, or the
 *       residual for the add+ReLU join); batchNormBackward: {@link #batchNormBackward}.</li>
 *   <li>softmaxCrossEntropyForward: {@link #softmaxCrossEntropyForward} with a bad-label record the backend
 *       reads at its next synchronisation ({@link #badLabel}; the reference throws before anything is
 *       written, the device at the next download).</li>
 * </ul>
 *
 * <p>Determinism: every reduction is fixed-order (per-block trees, then in-order sums of the partials);
 * the only float atomics are in the bilinear resize backward. Integer atomics (counts, first bad index)
 * do not depend on order.
 */
public final class CudaKernels implements AutoCloseable {
    /** The fatbin's classpath resource, next to this class; native/build.sh writes it. */
    public static final String RESOURCE = "densecl_kernels.fatbin";
    /** Written instead of the fatbin when nvcc was absent at build time; holds the reason. */
    static final String MISSING_RESOURCE = "densecl_kernels.missing";

    private static final int BLOCK = 256;
    private static final int ROWS_PER_WARP_BLOCK = BLOCK / 32; // warp-per-row kernels: 8 rows per block
    /** Default cap on the blocks of a grid-stride launch; the loops cover larger tensors. */
    static final int DEFAULT_MAX_GRID = 1 << 20;
    private static final int COL_TILE = 32, COL_ROWS = 8;      // as in native/common.cuh
    private static final int MAX_GROUPS = 128;                 // row chunks of a column reduction
    private static final long NO_INDEX = -1L;                  // ULLONG_MAX: "no bad element"

    private final CudaContext context; // null in host-side tests
    private final long module;
    private final long[] handles;      // (kernels) CUfunction by CudaKernel ordinal
    private final Arena arena = Arena.ofShared();
    private final KernelArgs args;
    private final KernelQueue queue;
    private final int maxGrid; // blocks of a grid-stride launch at most
    private boolean closed;

    private CudaKernels(CudaContext context, int maxGrid) {
        this.context = context;
        this.maxGrid = maxGrid;
        CudaDriver driver = context.driver();
        byte[] image = fatbin();
        context.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment copy = a.allocate(image.length + 1L, 16); // zero-terminated, as PTX text needs
            MemorySegment.copy(image, 0, copy, ValueLayout.JAVA_BYTE, 0, image.length);
            this.module = driver.moduleLoadData(copy);
        }
        this.handles = new long[CudaKernel.values().length];
        try {
            for (CudaKernel k : CudaKernel.values()) {
                try {
                    handles[k.ordinal()] = driver.moduleGetFunction(module, k.symbol);
                } catch (CudaException e) {
                    throw new CudaUnavailableException("kernel " + k.symbol + " is missing from " + RESOURCE
                            + " (rebuild with native/build.sh): " + e.getMessage(), e);
                }
            }
            this.queue = new DeviceQueue(context, handles);
        } catch (RuntimeException e) {
            driver.moduleUnload(module);
            throw e;
        }
        this.args = new KernelArgs(arena);
    }

    /** Host-side tests: launches go to {@code queue} (a recorder), no module is loaded. */
    CudaKernels(KernelQueue queue) {
        this.context = null;
        this.maxGrid = DEFAULT_MAX_GRID;
        this.module = 0;
        this.handles = new long[CudaKernel.values().length];
        this.queue = queue;
        this.args = new KernelArgs(arena);
    }

    /** Loads the fatbin into {@code context} and resolves every kernel; one per context. */
    public static CudaKernels load(CudaContext context) {
        return new CudaKernels(context, DEFAULT_MAX_GRID);
    }

    /**
     * {@link #load(CudaContext)} with grid-stride launches capped at {@code maxGrid} blocks: tests pass a
     * tiny cap so that every grid-stride loop takes several turns.
     */
    static CudaKernels load(CudaContext context, int maxGrid) {
        return new CudaKernels(context, maxGrid);
    }

    /**
     * The fatbin's bytes from the classpath. When the build had no nvcc, throws saying so ("kernels were
     * not built: nvcc not found at build time ...").
     */
    public static byte[] fatbin() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new CudaUnavailableException("cannot read the kernel fatbin " + RESOURCE + ": " + e.getMessage(), e);
        }
        try (InputStream in = CudaKernels.class.getResourceAsStream(MISSING_RESOURCE)) {
            if (in != null) {
                throw new CudaUnavailableException(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            // fall through to the generic message
        }
        throw new CudaUnavailableException("kernels were not built: " + RESOURCE + " is not on the classpath"
                + " (build with nvcc present: native/build.sh, or mvn compile)");
    }

    // ---------------------------------------------------------------- workspaces

    /** Row chunks of a column reduction over {@code rows} rows: enough blocks to fill a GPU, at most 128. */
    static int reductionGroups(long rows) {
        return (int) Math.min(MAX_GROUPS, Math.max(1, (rows + 255) / 256));
    }

    /**
     * Workspace of biasBackward and the batch-norm ops on (rows, c): (2, G, c) double partials, then the
     * backward's (2, c) float means.
     */
    public static long columnWorkspaceBytes(long rows, int c) {
        return 8L * 2 * reductionGroups(rows) * c + 4L * 2 * c;
    }

    /** Workspace of the cross-entropy ops on {@code rows} pixels: the label count (1) u64, then per-block losses. */
    public static long crossEntropyWorkspaceBytes(long rows) {
        return 8L * (1 + ceilDiv(rows, BLOCK));
    }

    /** Workspace of InfoNCE over {@code rows} anchors in total: one double loss per row. */
    public static long infoNceWorkspaceBytes(long rows) {
        return 8L * Math.max(rows, 1);
    }

    // ---------------------------------------------------------------- cast.cu

    /**
     * {@code void cast_f32_to_bf16(const float* src, unsigned short* dst, long long n)}: dst = bf16(src),
     * round to nearest even, NaN to 0x7FFF.
     */
    public void castToBf16(long stream, long src, long dst, long n) {
        synchronized (args) {
            args.begin().ptr(src).ptr(dst).i64(n);
            launch1d(CudaKernel.CAST_F32_TO_BF16, n, stream);
        }
    }

    /**
     * {@code void cast_bf16_to_f32(const unsigned short* src, float* dst, long long n, int accumulate)}:
     * dst = f32(src), or dst += f32(src).
     */
    public void castToF32(long stream, long src, long dst, long n, boolean accumulate) {
        synchronized (args) {
            args.begin().ptr(src).ptr(dst).i64(n).bool(accumulate);
            launch1d(CudaKernel.CAST_BF16_TO_F32, n, stream);
        }
    }

    // ---------------------------------------------------------------- elementwise.cu

    /** {@code void scale_f32(float* x, long long n, float alpha)}: x = alpha * x. */
    public void scale(long stream, long x, long n, float alpha) {
        synchronized (args) {
            args.begin().ptr(x).i64(n).f32(alpha);
            launch1d(CudaKernel.SCALE, n, stream);
        }
    }

    /** {@code void axpy_f32(const float* x, float* y, long long n, float alpha)}: y += alpha * x. */
    public void axpy(long stream, long x, long y, long n, float alpha) {
        synchronized (args) {
            args.begin().ptr(x).ptr(y).i64(n).f32(alpha);
            launch1d(CudaKernel.AXPY, n, stream);
        }
    }

    /** {@code void add_f32(const float* a, const float* b, float* y, long long n)}: y = a + b. */
    public void add(long stream, long a, long b, long y, long n) {
        synchronized (args) {
            args.begin().ptr(a).ptr(b).ptr(y).i64(n);
            launch1d(CudaKernel.ADD, n, stream);
        }
    }

    /** {@code void add_relu_f32(const float* a, const float* b, float* y, long long n)}: y = max(a + b, 0). */
    public void addRelu(long stream, long a, long b, long y, long n) {
        synchronized (args) {
            args.begin().ptr(a).ptr(b).ptr(y).i64(n);
            launch1d(CudaKernel.ADD_RELU, n, stream);
        }
    }

    /** {@code void relu_forward_f32(const float* x, float* y, long long n)}. */
    public void reluForward(long stream, long x, long y, long n) {
        synchronized (args) {
            args.begin().ptr(x).ptr(y).i64(n);
            launch1d(CudaKernel.RELU_FORWARD, n, stream);
        }
    }

    /**
     * {@code void relu_backward_f32(const float* y, const float* dy, float* dx, long long n, int accumulate)}:
     * dx += dy where y > 0, or (accumulate false) dx = that, every element written.
     */
    public void reluBackward(long stream, long y, long dy, long dx, long n, boolean accumulate) {
        synchronized (args) {
            args.begin().ptr(y).ptr(dy).ptr(dx).i64(n).bool(accumulate);
            launch1d(CudaKernel.RELU_BACKWARD, n, stream);
        }
    }

    /** {@code void bias_add_f32(float* y, const float* b, long long rows, int c)}: y[m, j] += b[j]. */
    public void biasAdd(long stream, long y, long b, long rows, int c) {
        synchronized (args) {
            args.begin().ptr(y).ptr(b).i64(rows).i32(c);
            launch1d(CudaKernel.BIAS_ADD, rows * c, stream);
        }
    }

    /**
     * {@code void copy_channels_f32(const float* src, int cs, int srcCh, float* dst, int cd, int dstCh,
     * long long rows, int count, int accumulate)}: Backend.copyChannels on src (rows, cs), dst (rows, cd).
     */
    public void copyChannels(long stream, long src, int cs, int srcCh, long dst, int cd, int dstCh, long rows,
                             int count, boolean accumulate) {
        synchronized (args) {
            args.begin().ptr(src).i32(cs).i32(srcCh).ptr(dst).i32(cd).i32(dstCh).i64(rows).i32(count).bool(accumulate);
            launch1d(CudaKernel.COPY_CHANNELS, rows * count, stream);
        }
    }

    /**
     * {@code void dropout_mask_f32(float* mask, int n, int c, unsigned long long seed, float p)}: mask (n, c)
     * = DropoutMask.scale(seed, b, j, p), the same hash computed on the device.
     */
    public void dropoutMask(long stream, long mask, int n, int c, long seed, float p) {
        synchronized (args) {
            args.begin().ptr(mask).i32(n).i32(c).i64(seed).f32(p);
            launch1d(CudaKernel.DROPOUT_MASK, (long) n * c, stream);
        }
    }

    /**
     * {@code void dropout_apply_f32(const float* in, const float* mask, float* out, int n, long long hw, int c,
     * int accumulate)}: out (=, or +=) in * mask[b, j]; in, out (n, hw, c), mask (n, c).
     */
    public void dropoutApply(long stream, long in, long mask, long out, int n, long hw, int c, boolean accumulate) {
        synchronized (args) {
            args.begin().ptr(in).ptr(mask).ptr(out).i32(n).i64(hw).i32(c).bool(accumulate);
            launch1d(CudaKernel.DROPOUT_APPLY, n * hw * c, stream);
        }
    }

    // ---------------------------------------------------------------- reduce.cu

    /**
     * db[j] += sum over m of dy[m, j]; dy (rows, c), db (c). Launches
     * {@code col_sum_partial_f32(const float* x, long long rows, int c, long long chunkRows, double* part)} then
     * {@code col_sum_finalize_f32(const double* part, int groups, int c, float* out)}.
     */
    public void biasBackward(long stream, long dy, long db, long rows, int c, long workspace) {
        int groups = reductionGroups(rows);
        synchronized (args) {
            args.begin().ptr(dy).i64(rows).i32(c).i64(ceilDiv(rows, groups)).ptr(workspace);
            launchColumns(CudaKernel.COL_SUM_PARTIAL, c, groups, stream);
            args.begin().ptr(workspace).i32(groups).i32(c).ptr(db);
            launch1d(CudaKernel.COL_SUM_FINALIZE, c, stream);
        }
    }

    // ---------------------------------------------------------------- batchnorm.cu

    /**
     * Training statistics of x (rows, c): saveMean, saveInvStd and the running statistics (all (c)), as
     * Backend.batchNormTrainForward; rows > 1. Launches
     * {@code bn_stats_partial_f32(const float* x, long long rows, int c, long long chunkRows, double* part)} and
     * {@code bn_stats_finalize_f32(const double* part, int groups, int c, long long rows, const float* x,
     * float momentum, float eps, float* runningMean, float* runningVar, float* saveMean, float* saveInvStd)}.
     * Follow with {@link #batchNormApply}.
     */
    public void batchNormStats(long stream, long x, long rows, int c, float momentum, float eps, long runningMean,
                               long runningVar, long saveMean, long saveInvStd, long workspace) {
        int groups = reductionGroups(rows);
        synchronized (args) {
            args.begin().ptr(x).i64(rows).i32(c).i64(ceilDiv(rows, groups)).ptr(workspace);
            launchColumns(CudaKernel.BN_STATS_PARTIAL, c, groups, stream);
            args.begin().ptr(workspace).i32(groups).i32(c).i64(rows).ptr(x).f32(momentum).f32(eps)
                    .ptr(runningMean).ptr(runningVar).ptr(saveMean).ptr(saveInvStd);
            launch1d(CudaKernel.BN_STATS_FINALIZE, c, stream);
        }
    }

    /**
     * {@code void bn_apply_f32(const float* x, long long rows, int c, const float* mean, const float* invStd,
     * const float* gamma, const float* beta, const float* residual, float* y, int relu)}: y = BN(x), ReLU'd
     * when relu; with a residual (non-zero pointer) y = max(BN(x) + residual, 0), the join.
     */
    public void batchNormApply(long stream, long x, long rows, int c, long mean, long invStd, long gamma, long beta,
                               long residual, long y, boolean relu) {
        synchronized (args) {
            args.begin().ptr(x).i64(rows).i32(c).ptr(mean).ptr(invStd).ptr(gamma).ptr(beta).ptr(residual).ptr(y)
                    .bool(relu);
            launch1d(CudaKernel.BN_APPLY, rows * c, stream);
        }
    }

    /**
     * {@code void bn_inference_f32(const float* x, long long rows, int c, const float* gamma, const float* beta,
     * const float* runningMean, const float* runningVar, float eps, float* y, int relu)}.
     */
    public void batchNormInference(long stream, long x, long rows, int c, long gamma, long beta, long runningMean,
                                   long runningVar, float eps, long y, boolean relu) {
        synchronized (args) {
            args.begin().ptr(x).i64(rows).i32(c).ptr(gamma).ptr(beta).ptr(runningMean).ptr(runningVar).f32(eps)
                    .ptr(y).bool(relu);
            launch1d(CudaKernel.BN_INFERENCE, rows * c, stream);
        }
    }

    /**
     * Backend.batchNormBackward: dx (+)= ..., dgamma += sum g * xhat, dbeta += sum g, g = dy masked by
     * y > 0 when relu (y may be 0 otherwise). Launches
     * {@code bn_backward_partial_f32(const float* x, const float* dy, const float* y, long long rows, int c,
     * long long chunkRows, const float* mean, const float* invStd, int relu, double* part)},
     * {@code bn_backward_finalize_f32(const double* part, int groups, int c, long long rows, float* dgamma,
     * float* dbeta, float* means)} and {@code bn_backward_dx_f32(const float* x, const float* dy, const float* y,
     * long long rows, int c, const float* gamma, const float* mean, const float* invStd, const float* means,
     * int relu, float* dx, int accumulate)}.
     */
    public void batchNormBackward(long stream, long x, long dy, long y, long rows, int c, long gamma, long mean,
                                  long invStd, boolean relu, long dx, boolean accumulate, long dgamma, long dbeta,
                                  long workspace) {
        int groups = reductionGroups(rows);
        long means = workspace + 8L * 2 * groups * c; // (2, c) floats after the (2, G, c) double partials
        synchronized (args) {
            args.begin().ptr(x).ptr(dy).ptr(y).i64(rows).i32(c).i64(ceilDiv(rows, groups)).ptr(mean).ptr(invStd)
                    .bool(relu).ptr(workspace);
            launchColumns(CudaKernel.BN_BACKWARD_PARTIAL, c, groups, stream);
            args.begin().ptr(workspace).i32(groups).i32(c).i64(rows).ptr(dgamma).ptr(dbeta).ptr(means);
            launch1d(CudaKernel.BN_BACKWARD_FINALIZE, c, stream);
            args.begin().ptr(x).ptr(dy).ptr(y).i64(rows).i32(c).ptr(gamma).ptr(mean).ptr(invStd).ptr(means)
                    .bool(relu).ptr(dx).bool(accumulate);
            launch1d(CudaKernel.BN_BACKWARD_DX, rows * c, stream);
        }
    }

    // ---------------------------------------------------------------- pool.cu

    /**
     * {@code void max_pool_forward_f32(const float* x, float* y, int n, int h, int w, int c, int r, int s,
     * int stride, int pad, int pOut, int qOut)}.
     */
    public void maxPoolForward(long stream, long x, long y, PoolGeometry g) {
        synchronized (args) {
            args.begin().ptr(x).ptr(y);
            packPool(g);
            launch1d(CudaKernel.MAX_POOL_FORWARD, (long) g.n() * g.p() * g.q() * g.c(), stream);
        }
    }

    /**
     * {@code void max_pool_backward_f32(const float* x, const float* dy, float* dx, int n, int h, int w, int c,
     * int r, int s, int stride, int pad, int pOut, int qOut)}: dx += dy routed to each window's first max.
     */
    public void maxPoolBackward(long stream, long x, long dy, long dx, PoolGeometry g) {
        synchronized (args) {
            args.begin().ptr(x).ptr(dy).ptr(dx);
            packPool(g);
            launch1d(CudaKernel.MAX_POOL_BACKWARD, (long) g.n() * g.h() * g.w() * g.c(), stream);
        }
    }

    /** {@code void global_avg_pool_forward_f32(const float* x, float* y, int n, long long hw, int c)}. */
    public void globalAvgPoolForward(long stream, long x, long y, int n, long hw, int c) {
        synchronized (args) {
            args.begin().ptr(x).ptr(y).i32(n).i64(hw).i32(c);
            launch1d(CudaKernel.GLOBAL_AVG_POOL_FORWARD, (long) n * c, stream);
        }
    }

    /** {@code void global_avg_pool_backward_f32(const float* dy, float* dx, int n, long long hw, int c)}. */
    public void globalAvgPoolBackward(long stream, long dy, long dx, int n, long hw, int c) {
        synchronized (args) {
            args.begin().ptr(dy).ptr(dx).i32(n).i64(hw).i32(c);
            launch1d(CudaKernel.GLOBAL_AVG_POOL_BACKWARD, n * hw * c, stream);
        }
    }

    /**
     * {@code void adaptive_avg_pool_forward_f32(const float* x, float* y, int n, int h, int w, int c, int pOut,
     * int qOut)}.
     */
    public void adaptiveAvgPoolForward(long stream, long x, long y, int n, int h, int w, int c, int pOut, int qOut) {
        synchronized (args) {
            args.begin().ptr(x).ptr(y).i32(n).i32(h).i32(w).i32(c).i32(pOut).i32(qOut);
            launch1d(CudaKernel.ADAPTIVE_AVG_POOL_FORWARD, (long) n * pOut * qOut * c, stream);
        }
    }

    /**
     * {@code void adaptive_avg_pool_backward_f32(const float* dy, float* dx, int n, int h, int w, int c,
     * int pOut, int qOut)}: dx += the adjoint.
     */
    public void adaptiveAvgPoolBackward(long stream, long dy, long dx, int n, int h, int w, int c, int pOut, int qOut) {
        synchronized (args) {
            args.begin().ptr(dy).ptr(dx).i32(n).i32(h).i32(w).i32(c).i32(pOut).i32(qOut);
            launch1d(CudaKernel.ADAPTIVE_AVG_POOL_BACKWARD, (long) n * h * w * c, stream);
        }
    }

    // ---------------------------------------------------------------- resize.cu

    /**
     * {@code void resize_bilinear_forward_f32(const float* x, float* y, int n, int h, int w, int c, int oh,
     * int ow, int alignCorners)}.
     */
    public void resizeBilinearForward(long stream, long x, long y, int n, int h, int w, int c, int oh, int ow,
                                      boolean alignCorners) {
        synchronized (args) {
            args.begin().ptr(x).ptr(y).i32(n).i32(h).i32(w).i32(c).i32(oh).i32(ow).bool(alignCorners);
            launch1d(CudaKernel.RESIZE_BILINEAR_FORWARD, (long) n * oh * ow * c, stream);
        }
    }

    /**
     * {@code void resize_bilinear_backward_f32(const float* dy, float* dx, int n, int h, int w, int c, int oh,
     * int ow, int alignCorners)}: dx += the adjoint (float atomicAdd).
     */
    public void resizeBilinearBackward(long stream, long dy, long dx, int n, int h, int w, int c, int oh, int ow,
                                       boolean alignCorners) {
        synchronized (args) {
            args.begin().ptr(dy).ptr(dx).i32(n).i32(h).i32(w).i32(c).i32(oh).i32(ow).bool(alignCorners);
            launch1d(CudaKernel.RESIZE_BILINEAR_BACKWARD, (long) n * oh * ow * c, stream);
        }
    }

    // ---------------------------------------------------------------- losses.cu

    /**
     * Backend.softmaxCrossEntropyForward on logits, probs (rows, c), labels (rows), loss (1). Zeroes the
     * workspace's label count, then launches
     * {@code ce_labels_f32(const int* labels, long long rows, int c, int ignoreIndex, unsigned long long* count,
     * unsigned long long* bad)},
     * {@code softmax_ce_forward_f32(const float* logits, const int* labels, long long rows, int c, int ignoreIndex,
     * float* probs, double* blockLoss)} and {@code softmax_ce_finalize_f32(const double* blockLoss, int blocks,
     * const unsigned long long* count, long long rows, int averageNonIgnored, float* loss)}. A bad label lowers
     * {@code bad} (one u64 of device memory the caller set to ULLONG_MAX) to its key, which
     * {@link #badLabel} turns into the reference's message once the host reads it.
     */
    public void softmaxCrossEntropyForward(long stream, long logits, long labels, long rows, int c, int ignoreIndex,
                                           boolean averageNonIgnored, long probs, long loss, long workspace,
                                           long bad) {
        long blockLoss = workspace + 8;
        int blocks = (int) ceilDiv(rows, BLOCK);
        synchronized (args) {
            countLabels(stream, labels, rows, c, ignoreIndex, workspace, bad);
            args.begin().ptr(logits).ptr(labels).i64(rows).i32(c).i32(ignoreIndex).ptr(probs).ptr(blockLoss);
            launch(CudaKernel.SOFTMAX_CE_FORWARD, blocks, 1, BLOCK, 1, stream);
            args.begin().ptr(blockLoss).i32(blocks).ptr(workspace).i64(rows).bool(averageNonIgnored).ptr(loss);
            launch(CudaKernel.SOFTMAX_CE_FINALIZE, 1, 1, BLOCK, 1, stream);
        }
    }

    /**
     * Backend.softmaxCrossEntropyBackward: dlogits += scale * (probs - onehot) / denominator. Launches
     * ce_labels_f32 (as the forward, without a bad-label record: the forward checked these labels) and
     * {@code softmax_ce_backward_f32(const float* probs, const int* labels, long long rows, int c,
     * int ignoreIndex, const unsigned long long* count, int averageNonIgnored, float scale, float* dlogits)}.
     */
    public void softmaxCrossEntropyBackward(long stream, long probs, long labels, long rows, int c, int ignoreIndex,
                                            boolean averageNonIgnored, float scale, long dlogits, long workspace) {
        synchronized (args) {
            countLabels(stream, labels, rows, c, ignoreIndex, workspace, 0);
            args.begin().ptr(probs).ptr(labels).i64(rows).i32(c).i32(ignoreIndex).ptr(workspace)
                    .bool(averageNonIgnored).f32(scale).ptr(dlogits);
            launch1d(CudaKernel.SOFTMAX_CE_BACKWARD, rows * c, stream);
        }
    }

    /** Count 0, then ce_labels_f32. Called under the args lock. */
    private void countLabels(long stream, long labels, long rows, int c, int ignoreIndex, long count, long bad) {
        if (rows >= 1L << 32) { // the bad-label key keeps the pixel in its upper 32 bits
            throw new IllegalArgumentException("cross-entropy over " + rows + " pixels: at most 2^32 - 1 per call");
        }
        queue.memset(count, (byte) 0, 8, stream);
        args.begin().ptr(labels).i64(rows).i32(c).i32(ignoreIndex).ptr(count).ptr(bad);
        launch1d(CudaKernel.CE_LABELS, rows, stream);
    }

    /**
     * The reference backend's message for the bad-label key {@code key} (pixel << 32 | label) that
     * ce_labels_f32 left, or null when it is ULLONG_MAX (every label was a class or the ignore index).
     */
    static String badLabel(String op, long key, int c, int ignoreIndex) {
        if (key == NO_INDEX) {
            return null;
        }
        return op + ": label " + (int) key + " at pixel " + (key >>> 32) + " is outside [0, " + c
                + ") and is not the ignore index " + ignoreIndex;
    }

    /** Waits for {@code stream}, then throws {@link #badLabel}'s message if the record at {@code bad} holds one. */
    public void throwIfBadLabel(long stream, String op, long bad, int c, int ignoreIndex) {
        String message = badLabel(op, queue.read(stream, bad, 8), c, ignoreIndex);
        if (message != null) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * {@code void l2_normalize_forward_f32(const float* x, float* y, float* norms, long long rows, int c,
     * float eps)}.
     */
    public void l2NormalizeForward(long stream, long x, long y, long norms, long rows, int c, float eps) {
        synchronized (args) {
            args.begin().ptr(x).ptr(y).ptr(norms).i64(rows).i32(c).f32(eps);
            launchWarpRows(CudaKernel.L2_NORMALIZE_FORWARD, rows, stream);
        }
    }

    /**
     * {@code void l2_normalize_backward_f32(const float* y, const float* norms, const float* dy, float* dx,
     * long long rows, int c, float eps)}.
     */
    public void l2NormalizeBackward(long stream, long y, long norms, long dy, long dx, long rows, int c, float eps) {
        synchronized (args) {
            args.begin().ptr(y).ptr(norms).ptr(dy).ptr(dx).i64(rows).i32(c).f32(eps);
            launchWarpRows(CudaKernel.L2_NORMALIZE_BACKWARD, rows, stream);
        }
    }

    // ---------------------------------------------------------------- contrastive.cu

    /**
     * {@code void dense_match_argmax_f32(const float* sim, int* indices, long long rows, int s2)}: sim
     * (rows, s2) from the batched GEMM, rows = N * S2.
     */
    public void denseMatchArgmax(long stream, long sim, long indices, long rows, int s2) {
        synchronized (args) {
            args.begin().ptr(sim).ptr(indices).i64(rows).i32(s2);
            launchWarpRows(CudaKernel.DENSE_MATCH_ARGMAX, rows, stream);
        }
    }

    /**
     * {@code void dense_gather_f32(const float* grid, const int* indices, float* out, int n, int s2, int d,
     * unsigned long long* bad)}: an index outside [0, s2) lowers {@code bad} (one u64 of device memory the
     * caller set to ULLONG_MAX) to its key; see {@link #badIndex}.
     */
    public void denseGather(long stream, long grid, long indices, long out, int n, int s2, int d, long bad) {
        synchronized (args) {
            args.begin().ptr(grid).ptr(indices).ptr(out).i32(n).i32(s2).i32(d).ptr(bad);
            launch1d(CudaKernel.DENSE_GATHER, (long) n * s2 * d, stream);
        }
    }

    /**
     * The reference backend's message for the key (row << 32 | index) that dense_gather_f32 left, or null
     * when it is ULLONG_MAX (every index was in range).
     */
    static String badIndex(long key, int s2, String gridShape) {
        if (key == NO_INDEX) {
            return null;
        }
        long row = key >>> 32;
        return "denseGather: indices[" + row / s2 + ", " + row % s2 + "] = " + (int) key + " is outside [0, " + s2
                + ") for grid " + gridShape;
    }

    /** Waits for {@code stream}, then throws {@link #badIndex}'s message if the record at {@code bad} holds one. */
    public void throwIfBadIndex(long stream, long bad, int s2, String gridShape) {
        String message = badIndex(queue.read(stream, bad, 8), s2, gridShape);
        if (message != null) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * {@code void infonce_positive_logit_f32(const float* anchors, const float* positives, float* logits,
     * long long rows, int d, long long ldl)}: logits[r, 0] = anchors[r] . positives[r].
     */
    public void infoNcePositiveLogit(long stream, long anchors, long positives, long logits, long rows, int d,
                                     long ldl) {
        synchronized (args) {
            args.begin().ptr(anchors).ptr(positives).ptr(logits).i64(rows).i32(d).i64(ldl);
            launchWarpRows(CudaKernel.INFONCE_POSITIVE_LOGIT, rows, stream);
        }
    }

    /**
     * {@code void infonce_softmax_f32(float* logits, long long rows, long long cols, long long ldl, float invTau,
     * float gradScale, double* rowLoss, int withGrad)}: rowLoss[r] = logsumexp(z) - z_0 with z = logits / tau;
     * with withGrad, logits become gradScale * (softmax - onehot(0)) in place (gradScale = weight / tau).
     * rowLoss points at this block's first row in the InfoNCE workspace.
     */
    public void infoNceSoftmax(long stream, long logits, long rows, long cols, long ldl, float invTau, float gradScale,
                               long rowLoss, boolean withGrad) {
        synchronized (args) {
            args.begin().ptr(logits).i64(rows).i64(cols).i64(ldl).f32(invTau).f32(gradScale).ptr(rowLoss)
                    .bool(withGrad);
            launch(CudaKernel.INFONCE_SOFTMAX, checkedGrid(rows), 1, BLOCK, 1, stream);
        }
    }

    /**
     * {@code void infonce_positive_grad_f32(const float* g, long long ldl, const float* positives,
     * float* dAnchors, long long rows, int d)}: dAnchors[r] += g[r, 0] * positives[r].
     */
    public void infoNcePositiveGrad(long stream, long g, long ldl, long positives, long dAnchors, long rows, int d) {
        synchronized (args) {
            args.begin().ptr(g).i64(ldl).ptr(positives).ptr(dAnchors).i64(rows).i32(d);
            launch1d(CudaKernel.INFONCE_POSITIVE_GRAD, rows * d, stream);
        }
    }

    /**
     * {@code void infonce_loss_sum_f32(const double* rowLoss, long long rows, float weight, float* loss)}:
     * loss[0] = weight * the sum of all rows' losses (overwritten).
     */
    public void infoNceLossSum(long stream, long rowLoss, long rows, float weight, long loss) {
        synchronized (args) {
            args.begin().ptr(rowLoss).i64(rows).f32(weight).ptr(loss);
            launch(CudaKernel.INFONCE_LOSS_SUM, 1, 1, BLOCK, 1, stream);
        }
    }

    // ---------------------------------------------------------------- optim.cu

    /**
     * {@code void sgd_step_f32(float* param, const float* grad, float* buf, long long n, float lr,
     * float momentum, float weightDecay)}; buf 0 (NULL) only with momentum 0.
     */
    public void sgdStep(long stream, long param, long grad, long buf, long n, float lr, float momentum,
                        float weightDecay) {
        synchronized (args) {
            args.begin().ptr(param).ptr(grad).ptr(buf).i64(n).f32(lr).f32(momentum).f32(weightDecay);
            launch1d(CudaKernel.SGD_STEP, n, stream);
        }
    }

    /** {@code void ema_update_f32(float* target, const float* source, long long n, float m)}. */
    public void emaUpdate(long stream, long target, long source, long n, float m) {
        synchronized (args) {
            args.begin().ptr(target).ptr(source).i64(n).f32(m);
            launch1d(CudaKernel.EMA_UPDATE, n, stream);
        }
    }

    // ---------------------------------------------------------------- finite.cu

    /**
     * The number of NaN and infinite elements of x (n): zeroes {@code counter} (one u64 of device memory),
     * launches {@code count_nonfinite_f32(const float* x, long long n, unsigned long long* count)}, waits for
     * the stream and returns the count.
     */
    public long countNonFinite(long stream, long x, long n, long counter) {
        synchronized (args) {
            queue.memset(counter, (byte) 0, 8, stream);
            args.begin().ptr(x).i64(n).ptr(counter);
            launch1d(CudaKernel.COUNT_NONFINITE, n, stream);
        }
        return queue.read(stream, counter, 8);
    }

    // ---------------------------------------------------------------- plumbing

    private void packPool(PoolGeometry g) {
        args.i32(g.n()).i32(g.h()).i32(g.w()).i32(g.c()).i32(g.r()).i32(g.s()).i32(g.stride()).i32(g.pad())
                .i32(g.p()).i32(g.q());
    }

    /** One thread per element, grid-stride, blocks of 256; nothing is launched for zero elements. */
    private void launch1d(CudaKernel k, long n, long stream) {
        if (n > 0) {
            launch(k, (int) Math.min(maxGrid, ceilDiv(n, BLOCK)), 1, BLOCK, 1, stream);
        }
    }

    /** One warp per row, 8 rows per block. */
    private void launchWarpRows(CudaKernel k, long rows, long stream) {
        if (rows > 0) {
            launch(k, checkedGrid(ceilDiv(rows, ROWS_PER_WARP_BLOCK)), 1, BLOCK, 1, stream);
        }
    }

    /** A column reduction: grid (ceil(c / 32), groups), blocks (32, 8), as native/common.cuh expects. */
    private void launchColumns(CudaKernel k, int c, int groups, long stream) {
        launch(k, (int) ceilDiv(c, COL_TILE), groups, COL_TILE, COL_ROWS, stream);
    }

    private void launch(CudaKernel k, int gridX, int gridY, int blockX, int blockY, long stream) {
        if (closed) {
            throw new IllegalStateException("CudaKernels: launch of " + k.symbol + " after close()");
        }
        queue.launch(k, gridX, gridY, blockX, blockY, stream, args);
    }

    private static int checkedGrid(long blocks) {
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("CudaKernels: " + blocks + " blocks exceed CUDA's grid limit");
        }
        return (int) Math.max(blocks, 1);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The resolved kernels by C name (for the GPU check's listing). */
    public Map<String, Long> functions() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (CudaKernel k : CudaKernel.values()) {
            out.put(k.symbol, handles[k.ordinal()]);
        }
        return out;
    }

    /** Unloads the module (after waiting for the context's work); the pinned word goes with the context. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (context != null) {
            context.synchronize();
            ((DeviceQueue) queue).close();
            context.driver().moduleUnload(module);
        }
        arena.close();
    }
}
