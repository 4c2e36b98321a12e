package org.densecl.backend.ref;

import org.densecl.backend.ConvGeometry;
import org.densecl.backend.HostBackend;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.Tensor;

/**
 * The reference backend: every op as readable scalar loops (llm.c's train_gpt2.c style) with double
 * accumulators, reading and writing through {@link Tensor#get}/{@link Tensor#set}, so the same code runs
 * on F32 tensors (as the oracle for the cpu and cuda backends) and on F64 tensors (for finite-difference
 * gradient checks). Single-threaded and slow on purpose: clarity over speed.
 *
 * <p>This class only delegates; the loops live in package-private files, one per op family:
 * {@link RefGemm}, {@link RefConv}, {@link RefElementwise}, {@link RefBatchNorm}, {@link RefPooling},
 * {@link RefResize}, {@link RefLosses}, {@link RefOptim}, {@link RefContrastive}. Memory,
 * upload/download, zero and copy come from {@link HostBackend}. The semantics of each op are the javadoc of {@link org.densecl.backend.Backend}.
 */
public final class RefBackend extends HostBackend {

    @Override
    public String name() {
        return "ref";
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void fill(Tensor x, float value) {
        RefElementwise.fill(x, value);
    }

    @Override
    public void scale(Tensor x, float alpha) {
        RefElementwise.scale(x, alpha);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        RefElementwise.axpy(alpha, x, y);
    }

    @Override
    public long countNonFinite(Tensor x) {
        RefArgs.floats("countNonFinite", "x", x);
        long n = 0;
        for (long i = 0; i < x.numel(); i++) {
            n += Double.isFinite(x.get(i)) ? 0 : 1;
        }
        return n;
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        RefElementwise.add(a, b, y);
    }

    @Override
    public void addRelu(Tensor a, Tensor b, Tensor y) {
        RefElementwise.addRelu(a, b, y);
    }

    @Override
    public void biasAdd(Tensor y, Tensor b) {
        RefElementwise.biasAdd(y, b);
    }

    @Override
    public void biasBackward(Tensor dy, Tensor db) {
        RefElementwise.biasBackward(dy, db);
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        RefElementwise.reluForward(x, y);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        RefElementwise.reluBackward(y, dy, dx);
    }

    @Override
    public void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        RefElementwise.dropout2dForward(x, p, seed, mask, y);
    }

    @Override
    public void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx) {
        RefElementwise.dropout2dBackward(mask, dy, dx);
    }

    // ---------------------------------------------------------------- GEMM and convolution

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        RefGemm.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    @Override
    public void conv2dForward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        RefConv.forward(g, x, w, bias, y);
    }

    @Override
    public void conv2dBackwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        RefConv.backwardData(g, dy, w, dx);
    }

    @Override
    public void conv2dBackwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        RefConv.backwardFilter(g, x, dy, dw, db);
    }

    // ---------------------------------------------------------------- batch norm

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                                      Tensor runningMean, Tensor runningVar, Tensor saveMean,
                                      Tensor saveInvStd, Tensor y, boolean relu) {
        RefBatchNorm.trainForward(x, gamma, beta, momentum, eps, runningMean, runningVar,
                saveMean, saveInvStd, y, relu);
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                          Tensor runningVar, float eps, Tensor y, boolean relu) {
        RefBatchNorm.inferenceForward(x, gamma, beta, runningMean, runningVar, eps, y, relu);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor y, boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta) {
        RefBatchNorm.backward(x, dy, gamma, saveMean, saveInvStd, y, relu, dx, dgamma, dbeta);
    }

    // ---------------------------------------------------------------- pooling

    @Override
    public void maxPoolForward(PoolGeometry g, Tensor x, Tensor y) {
        RefPooling.maxForward(g, x, y);
    }

    @Override
    public void maxPoolBackward(PoolGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        RefPooling.maxBackward(g, x, y, dy, dx);
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        RefPooling.globalAvgForward(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        RefPooling.globalAvgBackward(dy, dx);
    }

    @Override
    public void adaptiveAvgPoolForward(Tensor x, Tensor y) {
        RefPooling.adaptiveAvgForward(x, y);
    }

    @Override
    public void adaptiveAvgPoolBackward(Tensor dy, Tensor dx) {
        RefPooling.adaptiveAvgBackward(dy, dx);
    }

    // ---------------------------------------------------------------- resize

    @Override
    public void resizeBilinearForward(Tensor x, Tensor y, boolean alignCorners) {
        RefResize.forward(x, y, alignCorners);
    }

    @Override
    public void resizeBilinearBackward(Tensor dy, Tensor dx, boolean alignCorners) {
        RefResize.backward(dy, dx, alignCorners);
    }

    // ---------------------------------------------------------------- channel blocks

    @Override
    public void copyChannels(Tensor src, int srcChannel, Tensor dst, int dstChannel, int count,
                             boolean accumulate) {
        RefElementwise.copyChannels(src, srcChannel, dst, dstChannel, count, accumulate);
    }

    // ---------------------------------------------------------------- losses and normalisation

    @Override
    public void softmaxCrossEntropyForward(Tensor logits, Tensor labels, int ignoreIndex,
                                           boolean averageNonIgnored, Tensor probs, Tensor loss) {
        RefLosses.crossEntropyForward(logits, labels, ignoreIndex, averageNonIgnored, probs, loss);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, int ignoreIndex,
                                            boolean averageNonIgnored, float scale, Tensor dlogits) {
        RefLosses.crossEntropyBackward(probs, labels, ignoreIndex, averageNonIgnored, scale, dlogits);
    }

    @Override
    public void l2NormalizeForward(Tensor x, float eps, Tensor y, Tensor norms) {
        RefLosses.l2NormalizeForward(x, eps, y, norms);
    }

    @Override
    public void l2NormalizeBackward(Tensor y, Tensor norms, float eps, Tensor dy, Tensor dx) {
        RefLosses.l2NormalizeBackward(y, norms, eps, dy, dx);
    }

    // ---------------------------------------------------------------- DenseCL contrastive kernels

    @Override
    public void denseMatch(Tensor qb, Tensor kb, Tensor indices) {
        RefContrastive.denseMatch(qb, kb, indices);
    }

    @Override
    public void denseGather(Tensor grid, Tensor indices, Tensor out) {
        RefContrastive.denseGather(grid, indices, out);
    }

    @Override
    public void infoNceLoss(Tensor anchors, Tensor positives, Tensor queue, float temperature, float weight,
                            Tensor loss, Tensor dAnchors) {
        RefContrastive.infoNce(anchors, positives, queue, temperature, weight, loss, dAnchors);
    }

    // ---------------------------------------------------------------- optimisation

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                        float weightDecay) {
        RefOptim.sgdStep(param, grad, momentumBuffer, lr, momentum, weightDecay);
    }

    @Override
    public void emaUpdate(Tensor target, Tensor source, float m) {
        RefOptim.emaUpdate(target, source, m);
    }
}
