package org.densecl.backend.ref;

import org.densecl.backend.*;
import org.densecl.tensor.*;

/** PLACEHOLDER from the skeleton commit: every op throws until its helper implements it. */
public final class RefBackend extends HostBackend {

    @Override public String name() { return "ref"; }
    @Override public void fill(Tensor x, float value) { throw new UnsupportedOperationException("fill"); }
    @Override public void scale(Tensor x, float alpha) { throw new UnsupportedOperationException("scale"); }
    @Override public void axpy(float alpha, Tensor x, Tensor y) { throw new UnsupportedOperationException("axpy"); }
    @Override public void add(Tensor a, Tensor b, Tensor y) { throw new UnsupportedOperationException("add"); }
    @Override public void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, Tensor a, Tensor b, float beta, Tensor c) { throw new UnsupportedOperationException("gemm"); }
    @Override public void conv2dForward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) { throw new UnsupportedOperationException("conv2dForward"); }
    @Override public void conv2dBackwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) { throw new UnsupportedOperationException("conv2dBackwardData"); }
    @Override public void conv2dBackwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) { throw new UnsupportedOperationException("conv2dBackwardFilter"); }
    @Override public void biasAdd(Tensor y, Tensor b) { throw new UnsupportedOperationException("biasAdd"); }
    @Override public void biasBackward(Tensor dy, Tensor db) { throw new UnsupportedOperationException("biasBackward"); }
    @Override public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                               Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd,
                               Tensor y, boolean relu) { throw new UnsupportedOperationException("batchNormTrainForward"); }
    @Override public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                   Tensor runningVar, float eps, Tensor y, boolean relu) { throw new UnsupportedOperationException("batchNormInferenceForward"); }
    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                           Tensor y, boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta) { throw new UnsupportedOperationException("batchNormBackward"); }
    @Override public void reluForward(Tensor x, Tensor y) { throw new UnsupportedOperationException("reluForward"); }
    @Override public void reluBackward(Tensor y, Tensor dy, Tensor dx) { throw new UnsupportedOperationException("reluBackward"); }
    @Override public void maxPoolForward(PoolGeometry g, Tensor x, Tensor y) { throw new UnsupportedOperationException("maxPoolForward"); }
    @Override public void maxPoolBackward(PoolGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) { throw new UnsupportedOperationException("maxPoolBackward"); }
    @Override public void globalAvgPoolForward(Tensor x, Tensor y) { throw new UnsupportedOperationException("globalAvgPoolForward"); }
    @Override public void globalAvgPoolBackward(Tensor dy, Tensor dx) { throw new UnsupportedOperationException("globalAvgPoolBackward"); }
    @Override public void adaptiveAvgPoolForward(Tensor x, Tensor y) { throw new UnsupportedOperationException("adaptiveAvgPoolForward"); }
    @Override public void adaptiveAvgPoolBackward(Tensor dy, Tensor dx) { throw new UnsupportedOperationException("adaptiveAvgPoolBackward"); }
    @Override public void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y) { throw new UnsupportedOperationException("dropout2dForward"); }
    @Override public void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx) { throw new UnsupportedOperationException("dropout2dBackward"); }
    @Override public void resizeBilinearForward(Tensor x, Tensor y, boolean alignCorners) { throw new UnsupportedOperationException("resizeBilinearForward"); }
    @Override public void resizeBilinearBackward(Tensor dy, Tensor dx, boolean alignCorners) { throw new UnsupportedOperationException("resizeBilinearBackward"); }
    @Override public void softmaxCrossEntropyForward(Tensor logits, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                    Tensor probs, Tensor loss) { throw new UnsupportedOperationException("softmaxCrossEntropyForward"); }
    @Override public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                     float scale, Tensor dlogits) { throw new UnsupportedOperationException("softmaxCrossEntropyBackward"); }
    @Override public void l2NormalizeForward(Tensor x, float eps, Tensor y, Tensor norms) { throw new UnsupportedOperationException("l2NormalizeForward"); }
    @Override public void l2NormalizeBackward(Tensor y, Tensor norms, float eps, Tensor dy, Tensor dx) { throw new UnsupportedOperationException("l2NormalizeBackward"); }
    @Override public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float weightDecay) { throw new UnsupportedOperationException("sgdStep"); }
    @Override public void emaUpdate(Tensor target, Tensor source, float m) { throw new UnsupportedOperationException("emaUpdate"); }
}
