package org.densecl.backend.cpu;

import org.densecl.backend.ConvGeometry;
import org.densecl.backend.HostBackend;
import org.densecl.backend.PoolGeometry;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.InlineDirective;
import org.densecl.tensor.Tensor;

/**
 * The fast CPU backend: Vector API kernels on host memory, multi-threaded through one {@link Parallel}.
 * F32 only (F64 tensors are for the reference backend's gradient checks and are rejected with the op's
 * name). The contracts are {@link org.densecl.backend.Backend}'s javadoc; forward ops overwrite,
 * backward ops accumulate.
 *
 * <p>This class only routes: GEMM and convolution go to {@link CpuGemm} and {@link CpuConv}, every
 * other op to a small package-private class per family (CpuElementwise, CpuChannelwise, CpuBatchNorm,
 * CpuPooling, CpuResize, CpuLosses, CpuOptim, CpuContrastive). Those share the species and helpers in CpuVec
 * and the per-caller scratch arrays in Scratch, so a steady-state training step allocates no buffers here.
 */
public final class CpuBackend extends HostBackend {
    private final Parallel parallel;
    private final CpuGemm gemm;
    private final CpuConv conv;
    private final CpuElementwise elementwise;
    private final CpuChannelwise channelwise;
    private final CpuBatchNorm batchNorm;
    private final CpuPooling pooling;
    private final CpuResize resize;
    private final CpuLosses losses;
    private final CpuOptim optim;
    private final CpuFinite finite;
    private final CpuContrastive contrastive;

    /**
     * @param threads      worker threads (>= 1), the calling thread included
     * @param gemmProvider "vector" (pure Java) or "openblas"; see {@link CpuGemm}
     */
    public CpuBackend(int threads, String gemmProvider) {
        this(threads, CpuTuning.DEFAULT.withGemm(gemmProvider));
    }

    /**
     * @param threads worker threads (>= 1), the calling thread included
     * @param tuning  the GEMM provider and the kernel variants to use
     */
    public CpuBackend(int threads, CpuTuning tuning) {
        InlineDirective.installOrWarn();
        this.parallel = new Parallel(threads);
        Scratch scratch = new Scratch();
        this.gemm = new CpuGemm(parallel, tuning.gemm(), tuning.gemmPaths());
        this.conv = new CpuConv(parallel, gemm, tuning);
        this.elementwise = new CpuElementwise(parallel);
        this.channelwise = new CpuChannelwise(parallel, scratch);
        this.batchNorm = new CpuBatchNorm(parallel, scratch);
        this.pooling = new CpuPooling(parallel);
        this.resize = new CpuResize(parallel, scratch);
        this.losses = new CpuLosses(parallel, scratch);
        this.optim = new CpuOptim(parallel);
        this.finite = new CpuFinite(parallel);
        this.contrastive = new CpuContrastive(parallel, gemm, scratch);
    }

    @Override
    public String name() {
        return "cpu";
    }

    /** Worker threads in use (the calling thread included). */
    public int threads() {
        return parallel.threads();
    }

    /** Floats per vector in this JVM's kernels: the summation order of every reduction depends on it. */
    public int vectorFloats() {
        return CpuVec.L;
    }

    /** Floats per vector register of this CPU: 16 with AVX-512, 8 with AVX2. */
    public static int cpuVectorFloats() {
        return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    }

    /** {@link #vectorFloats()} without a backend: fixed when the JVM starts (see CpuVec). */
    public static int kernelVectorFloats() {
        return CpuVec.L;
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
    public long countNonFinite(Tensor x) {
        return finite.countNonFinite(x);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        elementwise.add(a, b, y);
    }

    @Override
    public void addRelu(Tensor a, Tensor b, Tensor y) {
        elementwise.addRelu(a, b, y);
    }

    // ------------------------------------------------------------------ GEMM and convolution

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        CpuVec.f32("gemm", "a", a);
        CpuVec.f32("gemm", "b", b);
        CpuVec.f32("gemm", "c", c);
        gemm.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
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

    // ------------------------------------------------------------------ bias

    @Override
    public void biasAdd(Tensor y, Tensor b) {
        channelwise.biasAdd(y, b);
    }

    @Override
    public void biasBackward(Tensor dy, Tensor db) {
        channelwise.biasBackward(dy, db);
    }

    // ------------------------------------------------------------------ batch norm and ReLU

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                                      Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd,
                                      Tensor y, boolean relu) {
        batchNorm.trainForward(x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd, y, relu);
    }

    @Override
    public void batchNormTrainForwardAddRelu(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                                             Tensor runningMean, Tensor runningVar, Tensor saveMean,
                                             Tensor saveInvStd, Tensor residual, Tensor y) {
        batchNorm.trainForwardAddRelu(x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd,
                residual, y);
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                          Tensor runningVar, float eps, Tensor y, boolean relu) {
        batchNorm.inferenceForward(x, gamma, beta, runningMean, runningVar, eps, y, relu);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor y, boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta) {
        batchNorm.backward(x, dy, gamma, saveMean, saveInvStd, y, relu, dx, dgamma, dbeta, true);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor y, boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta,
                                  boolean accumulate) {
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

    // ------------------------------------------------------------------ pooling

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

    // ------------------------------------------------------------------ dropout and resize

    @Override
    public void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        channelwise.dropout2dForward(x, p, seed, mask, y);
    }

    @Override
    public void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx) {
        channelwise.dropout2dBackward(mask, dy, dx);
    }

    @Override
    public void resizeBilinearForward(Tensor x, Tensor y, boolean alignCorners) {
        resize.forward(x, y, alignCorners);
    }

    @Override
    public void resizeBilinearBackward(Tensor dy, Tensor dx, boolean alignCorners) {
        resize.backward(dy, dx, alignCorners);
    }

    // ------------------------------------------------------------------ channel blocks

    @Override
    public void copyChannels(Tensor src, int srcChannel, Tensor dst, int dstChannel, int count,
                             boolean accumulate) {
        channelwise.copyChannels(src, srcChannel, dst, dstChannel, count, accumulate);
    }

    // ------------------------------------------------------------------ losses and normalisation

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

    // ------------------------------------------------------------------ optimisation

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                        float weightDecay) {
        optim.sgdStep(param, grad, momentumBuffer, lr, momentum, weightDecay);
    }

    @Override
    public void emaUpdate(Tensor target, Tensor source, float m) {
        optim.emaUpdate(target, source, m);
    }

    /** Stops the worker threads, then frees every allocation (tensors of this backend become invalid). */
    // ------------------------------------------------------------------ DenseCL contrastive kernels

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
    public void close() {
        parallel.close();
        super.close();
    }
}
