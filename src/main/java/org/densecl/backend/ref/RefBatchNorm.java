package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Reference batch normalisation (PyTorch's BatchNorm2d) with an optional fused ReLU. The input is any
 * tensor whose last dimension is the channel count C, seen as (M, C) with M = N*H*W for NHWC. Per-channel
 * statistics are two passes in double (mean, then the biased variance around it), which is exact enough
 * to serve as the oracle even for F32 inputs with a large mean.
 *
 * <p>Backward, with xhat = (x - mean) * invStd and g = dy (masked by y > 0 under a fused ReLU):
 * dbeta = sum g, dgamma = sum g * xhat, dx = gamma * invStd * (g - mean(g) - xhat * mean(g * xhat)),
 * means over the M rows of the channel (the standard derivation, as in llm.c's layernorm doc).
 */
final class RefBatchNorm {
    private RefBatchNorm() {}

    /**
     * Training mode. x, y (M, C); gamma, beta, runningMean, runningVar, saveMean, saveInvStd (C).
     * running = (1 - momentum) * running + momentum * batch, with the unbiased variance for runningVar.
     */
    static void trainForward(Tensor x, Tensor gamma, Tensor beta, double momentum, double eps,
                             Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd,
                             Tensor y, boolean relu) {
        String op = "batchNormTrainForward";
        RefArgs.floats(op, "x", x);
        RefArgs.floats(op, "y", y);
        int c = x.shape().rank() == 0 ? 0 : x.shape().last();
        long rows = RefArgs.rowsOf(op, "x", x, c);
        Check.same(op, "y", y, "x", x);
        Check.that(x.data().asOverlappingSlice(y.data()).isEmpty(), op, "y may not alias x " + x.shape());
        channelVector(op, "gamma", gamma, c);
        channelVector(op, "beta", beta, c);
        channelVector(op, "runningMean", runningMean, c);
        channelVector(op, "runningVar", runningVar, c);
        channelVector(op, "saveMean", saveMean, c);
        channelVector(op, "saveInvStd", saveInvStd, c);
        // PyTorch refuses too: the unbiased variance divides by M - 1.
        Check.that(rows > 1, op, "x " + x.shape() + " has " + rows
                + " value per channel; training-mode batch norm needs more than 1");
        for (int j = 0; j < c; j++) {
            double sum = 0;
            for (long m = 0; m < rows; m++) {
                sum += x.get(m * c + j);
            }
            double mean = sum / rows;
            double sq = 0;
            for (long m = 0; m < rows; m++) {
                double d = x.get(m * c + j) - mean;
                sq += d * d;
            }
            double var = sq / rows; // biased: what normalises the batch
            double invStd = 1.0 / Math.sqrt(var + eps);
            double unbiased = sq / (rows - 1); // what the running estimate tracks
            saveMean.set(j, mean);
            saveInvStd.set(j, invStd);
            runningMean.set(j, (1 - momentum) * runningMean.get(j) + momentum * mean);
            runningVar.set(j, (1 - momentum) * runningVar.get(j) + momentum * unbiased);
            normalise(x, y, j, c, rows, mean, invStd, gamma.get(j), beta.get(j), relu);
        }
    }

    /** Evaluation mode: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta, then ReLU. */
    static void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 double eps, Tensor y, boolean relu) {
        String op = "batchNormInferenceForward";
        RefArgs.floats(op, "x", x);
        RefArgs.floats(op, "y", y);
        int c = x.shape().rank() == 0 ? 0 : x.shape().last();
        long rows = RefArgs.rowsOf(op, "x", x, c);
        Check.same(op, "y", y, "x", x);
        channelVector(op, "gamma", gamma, c);
        channelVector(op, "beta", beta, c);
        channelVector(op, "runningMean", runningMean, c);
        channelVector(op, "runningVar", runningVar, c);
        for (int j = 0; j < c; j++) {
            double invStd = 1.0 / Math.sqrt(runningVar.get(j) + eps);
            normalise(x, y, j, c, rows, runningMean.get(j), invStd, gamma.get(j), beta.get(j), relu);
        }
    }

    /**
     * dx += ..., dgamma += sum(g * xhat), dbeta += sum(g), with g = dy, or dy where y > 0 when relu.
     * x, dy, dx (M, C) (and y when relu); gamma, saveMean, saveInvStd, dgamma, dbeta (C).
     */
    static void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor y,
                         boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta) {
        String op = "batchNormBackward";
        RefArgs.floats(op, "x", x);
        RefArgs.floats(op, "dy", dy);
        RefArgs.floats(op, "dx", dx);
        int c = x.shape().rank() == 0 ? 0 : x.shape().last();
        long rows = RefArgs.rowsOf(op, "x", x, c);
        Check.same(op, "dy", dy, "x", x);
        Check.same(op, "dx", dx, "x", x);
        if (relu) {
            Check.that(y != null, op, "relu is set, so y (the post-ReLU output) is required");
            RefArgs.floats(op, "y", y);
            Check.same(op, "y", y, "x", x);
        }
        channelVector(op, "gamma", gamma, c);
        channelVector(op, "saveMean", saveMean, c);
        channelVector(op, "saveInvStd", saveInvStd, c);
        channelVector(op, "dgamma", dgamma, c);
        channelVector(op, "dbeta", dbeta, c);
        for (int j = 0; j < c; j++) {
            double mean = saveMean.get(j), invStd = saveInvStd.get(j);
            double sumG = 0, sumGXhat = 0;
            for (long m = 0; m < rows; m++) {
                long i = m * c + j;
                double g = upstream(dy, y, relu, i);
                sumG += g;
                sumGXhat += g * (x.get(i) - mean) * invStd;
            }
            double meanG = sumG / rows, meanGXhat = sumGXhat / rows;
            double k = gamma.get(j) * invStd;
            for (long m = 0; m < rows; m++) {
                long i = m * c + j;
                double xhat = (x.get(i) - mean) * invStd;
                double g = upstream(dy, y, relu, i);
                dx.set(i, dx.get(i) + k * (g - meanG - xhat * meanGXhat));
            }
            dgamma.set(j, dgamma.get(j) + sumGXhat);
            dbeta.set(j, dbeta.get(j) + sumG);
        }
    }

    /** The gradient w.r.t. the pre-ReLU output: dy, zeroed where the fused ReLU clipped (y <= 0). */
    private static double upstream(Tensor dy, Tensor y, boolean relu, long i) {
        return relu && !(y.get(i) > 0) ? 0 : dy.get(i);
    }

    /** y[:, j] = gamma * (x[:, j] - mean) * invStd + beta, then max(., 0) when relu. */
    private static void normalise(Tensor x, Tensor y, int j, int c, long rows, double mean, double invStd,
                                  double gamma, double beta, boolean relu) {
        for (long m = 0; m < rows; m++) {
            long i = m * c + j;
            double v = gamma * (x.get(i) - mean) * invStd + beta;
            y.set(i, relu && v < 0 ? 0 : v);
        }
    }

    private static void channelVector(String op, String arg, Tensor t, int c) {
        Check.that(t != null, op, arg + " is null; a (" + c + ") tensor is required");
        RefArgs.floats(op, arg, t);
        Check.shape(op, arg, t, Shape.of(c));
    }
}
