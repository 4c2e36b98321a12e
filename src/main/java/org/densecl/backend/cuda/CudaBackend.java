package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import org.densecl.backend.Backend;
import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.Tensor;

/**
 * The GPU backend: every op on one CUDA device, none on the host. Convolutions on cuDNN, GEMMs on cuBLAS,
 * everything else on our kernels (native/*.cu; batch norm too, or on cuDNN with bn=cudnn), all queued on the
 * context's main stream; uploads and downloads go through pinned staging on the copy stream
 * ({@link CudaTransfers}). The contracts are {@link Backend}'s javadoc: forward ops overwrite, backward ops
 * accumulate (cuDNN's beta = 1).
 *
 * <p>Memory: {@link #allocateBytes} is device memory, zero-filled, freed by {@link #close()}; the models plan
 * their tensors in a few slabs, so a step allocates nothing. The scratch this backend keeps (cuDNN workspace,
 * similarity matrices, logits blocks, a masked gradient) grows to the largest need of the first step of a
 * shape and stays; a second shape that needs more grows it once more. Running out of device memory is an
 * {@link OutOfDeviceMemory} saying what was asked, what is free and what to lower.
 *
 * <p>Options ({@link CudaOptions}): precision (TF32 by default), batch-norm engine, workspace sizes. Ops are
 * issued from one thread at a time, as a training step does; the context is made current on the thread that
 * opened the backend and on every thread that allocates, uploads or downloads.
 *
 * <p>This class only routes: the work is in CudaConv, CudaBatchNorm, CudaElementwise, CudaPooling,
 * CudaLosses, CudaContrastive and CudaTransfers.
 */
public final class CudaBackend implements Backend {
    private final CudaContext context;
    private final CudaOptions options;
    private final DeviceMemory memory;
    private final CudaTransfers transfers;
    private final CudaKernels kernels;
    private final Cublas cublas;
    private final Cudnn cudnn;
    private final Workspace convWorkspace;
    private final ConvPlans convPlans;
    private final CudaConv conv;
    private final CudaElementwise elementwise;
    private final CudaBatchNorm batchNorm;
    private final CudaPooling pooling;
    private final CudaLosses losses;
    private final CudaContrastive contrastive;
    private final DeferredChecks checks;
    private boolean closed;

    /**
     * Opens device {@code ordinal} with {@code options} ({@link CudaOptions#parse}). Throws
     * {@link CudaUnavailableException} (one line: what was looked for and where) when the driver, cuBLAS,
     * cuDNN or the device is missing: asking for CUDA never falls back to the host. Logs the device and the
     * library versions on stderr (the backend is always logged).
     */
    public static CudaBackend open(int ordinal, CudaOptions options) {
        CudaBackend be = new CudaBackend(CudaContext.open(ordinal), options);
        System.err.println("cuda backend: " + be.describe());
        return be;
    }

    /** The backend on an open context, which it owns from here (closing the backend closes it). */
    public CudaBackend(CudaContext context, CudaOptions options) {
        this(context, options, null, null, 0);
    }

    /**
     * As {@link #CudaBackend(CudaContext, CudaOptions)} on the given cuBLAS and cuDNN (stand-in libraries in
     * the host-side tests; null means the installed ones), with our kernels' grid-stride launches capped at
     * {@code kernelGridCap} blocks (0: no cap beyond the default; the CPU emulator of the tests wants few).
     */
    CudaBackend(CudaContext context, CudaOptions options, SymbolLookup cublasLib, SymbolLookup cudnnLib,
                int kernelGridCap) {
        this.context = context;
        this.options = options;
        CudaPrecision precision = options.precision();
        boolean done = false;
        try {
            this.memory = new DeviceMemory(context, "the model's tensors");
            this.transfers = new CudaTransfers(context);
            this.kernels = kernelGridCap > 0 ? CudaKernels.load(context, kernelGridCap) : CudaKernels.load(context);
            long blasWorkspace = context.allocate(options.cublasWorkspaceBytes());
            MemorySegment ws = MemorySegment.ofAddress(blasWorkspace);
            long stream = context.mainStream();
            this.cublas = cublasLib == null ? new Cublas(stream, ws, options.cublasWorkspaceBytes(), precision)
                    : new Cublas(cublasLib, stream, ws, options.cublasWorkspaceBytes(), precision);
            this.cudnn = cudnnLib == null ? new Cudnn(stream, precision) : new Cudnn(cudnnLib, stream, precision);
            this.convWorkspace = scratch("the cuDNN workspace");
            long counter = context.allocate(8); // (1) u64: countNonFinite's count
            this.convPlans = new ConvPlans(CudaConv.ranking(cudnn), options.convWorkspaceLimit());
            Bf16Operands bf16 = precision != CudaPrecision.BF16 ? null : new Bf16Operands(kernels, stream,
                    scratch("bf16 copies of convolution activations"), scratch("bf16 copies of convolution filters"),
                    scratch("bf16 copies of convolution outputs"));
            this.conv = new CudaConv(cudnn, convPlans, convWorkspace, bf16);
            this.elementwise = new CudaElementwise(context, kernels, scratch("biasBackward's column sums"), counter);
            this.batchNorm = new CudaBatchNorm(kernels, stream, options.cudnnBatchNorm() ? cudnn : null, elementwise,
                    scratch("batch norm's partial sums or masked gradient"));
            this.pooling = new CudaPooling(kernels, stream);
            this.checks = new DeferredChecks(context);
            this.losses = new CudaLosses(kernels, stream, scratch("the cross-entropy's label count and block sums"),
                    checks);
            this.contrastive = new CudaContrastive(cublas, kernels, stream, scratch("denseMatch's similarity matrices"),
                    scratch("infoNceLoss's logits block"), scratch("infoNceLoss's row losses"), checks);
            done = true;
        } finally {
            if (!done) {
                context.close();
            }
        }
    }

    /** A grow-once device buffer; growing waits for the queued work that may still use the old one. */
    private Workspace scratch(String what) {
        return new Workspace(memory.labelled(what), this::synchronize, what);
    }

    @Override
    public String name() {
        return "cuda";
    }

    public CudaOptions options() {
        return options;
    }

    /** "NVIDIA H100 80GB HBM3, tf32, cuBLAS 130100, cuDNN 91900": the device, the options, the libraries. */
    public String describe() {
        CudaProbe p = CudaDevices.probe();
        return (p.available() ? p.deviceName() : "device " + context.ordinal()) + ", " + options + ", cuBLAS "
                + cublas.version() + ", cuDNN " + cudnn.version();
    }

    /** Convolution shapes and directions planned so far, and the workspace they share (for the benchmarks). */
    public String planSummary() {
        return convPlans.size() + " convolution plans, cuDNN workspace " + DeviceBytes.format(convWorkspace.capacity())
                + " (grown " + convWorkspace.growths() + "x)";
    }

    /** Device allocations made so far (tensors and scratch): a training step after the first adds none. */
    long deviceAllocations() {
        return memory.allocations();
    }

    // ------------------------------------------------------------------ memory

    @Override
    public MemorySegment allocateBytes(long bytes) {
        context.makeCurrent();
        return memory.allocate(Math.max(bytes, 1));
    }

    @Override
    public boolean isHost() {
        return false;
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        Check.numel("upload", "dst", dst, src.length);
        context.makeCurrent();
        transfers.upload(src, CudaArgs.f32Address("upload", "dst", dst));
    }

    @Override
    public void upload(int[] src, Tensor dst) {
        Check.numel("upload", "dst", dst, src.length);
        context.makeCurrent();
        transfers.upload(src, CudaArgs.i32Address("upload", "dst", dst));
    }

    @Override
    public void uploadAsync(float[] src, Tensor dst) {
        Check.numel("uploadAsync", "dst", dst, src.length);
        context.makeCurrent();
        transfers.uploadAsync(src, CudaArgs.f32Address("uploadAsync", "dst", dst));
    }

    @Override
    public void uploadAsync(int[] src, Tensor dst) {
        Check.numel("uploadAsync", "dst", dst, src.length);
        context.makeCurrent();
        transfers.uploadAsync(src, CudaArgs.i32Address("uploadAsync", "dst", dst));
    }

    @Override
    public void awaitUpload(Tensor dst) {
        transfers.awaitUpload(dst.data().address());
    }

    @Override
    public void download(Tensor src, float[] dst) {
        Check.numel("download", "src", src, dst.length);
        context.makeCurrent();
        transfers.download(CudaArgs.f32Address("download", "src", src), dst);
        checks.verify(); // the host has waited for the device: report a bad label or index queued before
    }

    @Override
    public void synchronize() {
        context.synchronize();
        checks.verify();
    }

    /** Input checks (labels, correspondence indices) queued and not yet read back (tests). */
    int pendingChecks() {
        return checks.pending();
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void zero(Tensor x) {
        elementwise.zero(x);
    }

    @Override
    public void fill(Tensor x, float value) {
        elementwise.fill(x, value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        elementwise.copy(src, dst);
    }

    @Override
    public void scale(Tensor x, float alpha) {
        elementwise.scale(x, alpha);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        elementwise.axpy(alpha, x, y);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        elementwise.add(a, b, y);
    }

    @Override
    public void addRelu(Tensor a, Tensor b, Tensor y) {
        elementwise.addRelu(a, b, y);
    }

    @Override
    public long countNonFinite(Tensor x) {
        long count = elementwise.countNonFinite(x);
        checks.verify(); // the count's read waited for the stream
        return count;
    }

    // ------------------------------------------------------------------ GEMM and convolution

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta,
                     Tensor c) {
        Check.numel("gemm", "a", a, (long) m * k);
        Check.numel("gemm", "b", b, (long) k * n);
        Check.numel("gemm", "c", c, (long) m * n);
        cublas.gemm(transA, transB, m, n, k, alpha, CudaArgs.f32("gemm", "a", a), CudaArgs.f32("gemm", "b", b), beta,
                CudaArgs.f32("gemm", "c", c));
    }

    @Override
    public void conv2dForward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        conv.forward(g, x, w, bias, y);
    }

    @Override
    public void conv2dBackwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        conv.backwardData(g, dy, w, dx, true);
    }

    @Override
    public void conv2dBackwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        conv.backwardData(g, dy, w, dx, accumulate);
    }

    @Override
    public void conv2dBackwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        conv.backwardFilter(g, x, dy, dw, db);
    }

    // ------------------------------------------------------------------ bias, batch norm, ReLU

    @Override
    public void biasAdd(Tensor y, Tensor b) {
        elementwise.biasAdd(y, b);
    }

    @Override
    public void biasBackward(Tensor dy, Tensor db) {
        elementwise.biasBackward(dy, db);
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                                      Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd,
                                      Tensor y, boolean relu) {
        batchNorm.trainForward(x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd, null, y,
                relu);
    }

    @Override
    public void batchNormTrainForwardAddRelu(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                                             Tensor runningMean, Tensor runningVar, Tensor saveMean,
                                             Tensor saveInvStd, Tensor residual, Tensor y) {
        batchNorm.trainForward(x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd, residual,
                y, true);
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                          float eps, Tensor y, boolean relu) {
        batchNorm.inferenceForward(x, gamma, beta, runningMean, runningVar, eps, y, relu);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor y,
                                  boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta) {
        batchNorm.backward(x, dy, gamma, saveMean, saveInvStd, y, relu, dx, dgamma, dbeta, true);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor y,
                                  boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        batchNorm.backward(x, dy, gamma, saveMean, saveInvStd, y, relu, dx, dgamma, dbeta, accumulate);
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        elementwise.reluForward(x, y);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        elementwise.reluBackward(y, dy, dx, true);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        elementwise.reluBackward(y, dy, dx, accumulate);
    }

    // ------------------------------------------------------------------ pooling, dropout, resize, channels

    @Override
    public void maxPoolForward(PoolGeometry g, Tensor x, Tensor y) {
        pooling.maxForward(g, x, y);
    }

    @Override
    public void maxPoolBackward(PoolGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        pooling.maxBackward(g, x, y, dy, dx);
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        pooling.globalAvgForward(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        pooling.globalAvgBackward(dy, dx);
    }

    @Override
    public void adaptiveAvgPoolForward(Tensor x, Tensor y) {
        pooling.adaptiveAvgForward(x, y);
    }

    @Override
    public void adaptiveAvgPoolBackward(Tensor dy, Tensor dx) {
        pooling.adaptiveAvgBackward(dy, dx);
    }

    @Override
    public void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        elementwise.dropout2dForward(x, p, seed, mask, y);
    }

    @Override
    public void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx) {
        elementwise.dropout2dBackward(mask, dy, dx);
    }

    @Override
    public void resizeBilinearForward(Tensor x, Tensor y, boolean alignCorners) {
        pooling.resizeForward(x, y, alignCorners);
    }

    @Override
    public void resizeBilinearBackward(Tensor dy, Tensor dx, boolean alignCorners) {
        pooling.resizeBackward(dy, dx, alignCorners);
    }

    @Override
    public void copyChannels(Tensor src, int srcChannel, Tensor dst, int dstChannel, int count, boolean accumulate) {
        elementwise.copyChannels(src, srcChannel, dst, dstChannel, count, accumulate);
    }

    // ------------------------------------------------------------------ losses, contrastive, optimisation

    @Override
    public void softmaxCrossEntropyForward(Tensor logits, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                           Tensor probs, Tensor loss) {
        losses.crossEntropyForward(logits, labels, ignoreIndex, averageNonIgnored, probs, loss);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                            float scale, Tensor dlogits) {
        losses.crossEntropyBackward(probs, labels, ignoreIndex, averageNonIgnored, scale, dlogits);
    }

    @Override
    public void l2NormalizeForward(Tensor x, float eps, Tensor y, Tensor norms) {
        losses.l2NormalizeForward(x, eps, y, norms);
    }

    @Override
    public void l2NormalizeBackward(Tensor y, Tensor norms, float eps, Tensor dy, Tensor dx) {
        losses.l2NormalizeBackward(y, norms, eps, dy, dx);
    }

    @Override
    public void denseMatch(Tensor qb, Tensor kb, Tensor indices) {
        contrastive.denseMatch(qb, kb, indices);
    }

    @Override
    public void denseGather(Tensor grid, Tensor indices, Tensor out) {
        contrastive.denseGather(grid, indices, out);
    }

    @Override
    public void infoNceLoss(Tensor anchors, Tensor positives, Tensor queue, float temperature, float weight,
                            Tensor loss, Tensor dAnchors) {
        contrastive.infoNce(anchors, positives, queue, temperature, weight, loss, dAnchors);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float weightDecay) {
        String op = "sgdStep";
        Check.same(op, "grad", grad, "param", param);
        if (momentumBuffer != null) {
            Check.same(op, "momentumBuffer", momentumBuffer, "param", param);
        }
        Check.that(momentumBuffer != null || momentum == 0f, op, "momentum " + momentum + " needs a momentum buffer");
        kernels.sgdStep(context.mainStream(), CudaArgs.f32Address(op, "param", param),
                CudaArgs.f32Address(op, "grad", grad),
                momentumBuffer == null ? 0 : CudaArgs.f32Address(op, "momentumBuffer", momentumBuffer),
                param.numel(), lr, momentum, weightDecay);
    }

    @Override
    public void emaUpdate(Tensor target, Tensor source, float m) {
        Check.same("emaUpdate", "source", source, "target", target);
        kernels.emaUpdate(context.mainStream(), CudaArgs.f32Address("emaUpdate", "target", target),
                CudaArgs.f32Address("emaUpdate", "source", source), target.numel(), m);
    }

    /**
     * Waits for queued work, destroys the cuBLAS and cuDNN handles, then frees every device allocation. A
     * second call does nothing.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        checks.discard(); // an error not yet read belongs to a step nobody will finish
        try {
            context.synchronize();
            cublas.close();
            cudnn.close();
            transfers.close();
            kernels.close();
        } finally {
            context.close();
        }
    }
}
