package org.densecl.backend;

import java.lang.foreign.MemorySegment;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Every operation a layer needs, forward and backward, on one kind of memory. Three implementations:
 * {@code ref} (scalar Java, the oracle), {@code cpu} (Vector API, multi-threaded) and, later,
 * {@code cuda}. Layers only call these methods; they never read tensor data themselves, so a backend
 * whose memory the host cannot touch fits without changing a layer.
 *
 * <p>Conventions, the same for every op:
 * <ul>
 *   <li>Activations are NHWC, conv filters KRSC; ops that act per channel take any tensor whose last
 *       dimension is the channel count C and treat it as (M, C), M = numel / C.</li>
 *   <li>Forward ops OVERWRITE their outputs. Backward ops ACCUMULATE into every gradient they produce
 *       (dx, dW, db; cuDNN's beta = 1). Gradients are zeroed once per step by the trainer, so a tensor
 *       that feeds two consumers (a residual) needs no special code.</li>
 *   <li>Outputs never alias inputs unless the op says so.</li>
 *   <li>Shapes are checked; a mismatch throws {@link IllegalArgumentException} naming the op, the
 *       argument and both shapes.</li>
 *   <li>The reference backend accepts F32 and F64 tensors (F64 for finite-difference checks); others
 *       accept F32. Labels are I32.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** "ref", "cpu" or "cuda": what logs and error messages print. */
    String name();

    // ------------------------------------------------------------------ memory

    /**
     * Allocates {@code bytes} bytes aligned to 64 bytes, zero-filled, living until {@link #close()}.
     * Host backends return host memory; a device backend returns a zero-length segment whose address is
     * the device pointer. Used by {@link org.densecl.tensor.Plan} to allocate slabs.
     */
    MemorySegment allocateBytes(long bytes);

    /** True if tensors of this backend are host memory (then {@link Tensor#get} works on them). */
    boolean isHost();

    /** A new zero-filled tensor (for set-up and tests; training steps use plan views instead). */
    default Tensor allocate(DType dtype, Shape shape) {
        long n = shape.numel() * dtype.bytes();
        MemorySegment seg = allocateBytes(Math.max(n, 1));
        return isHost() ? Tensor.wrap(dtype, shape, seg.asSlice(0, n)) : Tensor.device(dtype, shape, seg);
    }

    default Tensor allocate(Shape shape) {
        return allocate(DType.F32, shape);
    }

    /** Copies host floats into an F32 tensor (F64 on ref: converted). {@code src.length == dst.numel()}. */
    void upload(float[] src, Tensor dst);

    /** Copies host ints into an I32 tensor. */
    void upload(int[] src, Tensor dst);

    /**
     * {@link #upload(float[], Tensor)} for a later step, overlapping the work already queued: the copy waits
     * only for the ops queued before this call (the last readers of dst's old values), and ops queued after
     * it do not wait for it until {@link #awaitUpload(Tensor)}. {@code src} may be reused on return. A
     * training loop double-buffers its inputs with it ({@link org.densecl.train.DoubleBufferedInputs}): batch
     * k+1 goes into one tensor while step k runs on the other. Host backends copy at once.
     */
    default void uploadAsync(float[] src, Tensor dst) {
        upload(src, dst);
    }

    /** {@link #uploadAsync(float[], Tensor)} of host ints into an I32 tensor. */
    default void uploadAsync(int[] src, Tensor dst) {
        upload(src, dst);
    }

    /** Ops queued from now on see dst's last {@link #uploadAsync} (they wait for its copy); host backends: no-op. */
    default void awaitUpload(Tensor dst) {}

    /** Copies an F32 (or F64) tensor to host floats. {@code dst.length == src.numel()}. */
    void download(Tensor src, float[] dst);

    /** Waits until all queued work is done (a no-op on host backends). */
    default void synchronize() {}

    /** x = 0. */
    void zero(Tensor x);

    /** x = value everywhere. */
    void fill(Tensor x, float value);

    /** dst = src (same element count; shapes may differ). */
    void copy(Tensor src, Tensor dst);

    /** x = alpha * x. */
    void scale(Tensor x, float alpha);

    /** y += alpha * x (same element count). The residual backward is two of these with alpha = 1. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** y = a + b, elementwise (the residual join). {@code y} may alias {@code a} or {@code b}. */
    void add(Tensor a, Tensor b, Tensor y);

    /**
     * y = max(a + b, 0): a residual block's join and the ReLU after it in one pass over memory instead of
     * two (the sum is rounded to float before the max, so the values are those of add then reluForward).
     * {@code y} may alias {@code a} or {@code b}.
     */
    void addRelu(Tensor a, Tensor b, Tensor y);

    /**
     * The number of NaN and infinite elements of x (F32; F64 too on ref), any shape. A reduction that
     * returns to the host (so it synchronises a device backend): the trainer's divergence check calls it
     * once per gradient tensor per step, and on the loss. 0 means every element is finite.
     */
    long countNonFinite(Tensor x);

    // ------------------------------------------------------------------ GEMM

    /**
     * Row-major C = alpha * op(A) * op(B) + beta * C, with op(A) of size (m, k) and op(B) of size (k, n).
     * A is stored (m, k), or (k, m) when {@code transA}; B is stored (k, n), or (n, k) when {@code transB};
     * C is (m, n). All three are dense. When beta is 0, C's old contents are ignored (even NaN).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, Tensor a, Tensor b, float beta, Tensor c);

    // ------------------------------------------------------------------ convolution

    /** y = conv(x, w) (+ bias). x (N, H, W, C), w (K, R, S, C), bias (K) or null, y (N, P, Q, K). */
    void conv2dForward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y);

    /** dx += the gradient of conv w.r.t. its input. dy (N, P, Q, K), w (K, R, S, C), dx (N, H, W, C). */
    void conv2dBackwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx);

    /**
     * {@link #conv2dBackwardData} with the choice of accumulating into dx or assigning it (false: dx = the
     * gradient, every element written, its old contents ignored, even NaN). Assigning spares the first
     * writer of a gradient the zeroing before it and the read of those zeros. This default zeroes, then
     * accumulates; a backend overrides it where it can write the gradient directly.
     */
    default void conv2dBackwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        if (!accumulate) {
            zero(dx);
        }
        conv2dBackwardData(g, dy, w, dx);
    }

    /** dw += the gradient w.r.t. the filter; db += the sum of dy over (N, P, Q) when db is not null. */
    void conv2dBackwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db);

    // ------------------------------------------------------------------ bias (linear layers, conv bias)

    /** y[m, c] += b[c]. y (M, C), b (C). */
    void biasAdd(Tensor y, Tensor b);

    /** db[c] += sum over m of dy[m, c]. */
    void biasBackward(Tensor dy, Tensor db);

    // ------------------------------------------------------------------ batch norm and ReLU

    /**
     * Training-mode batch norm over x seen as (M, C): batch mean and biased variance per channel,
     * y = gamma * (x - mean) * invStd + beta with invStd = 1 / sqrt(var + eps), then ReLU when
     * {@code relu}. Saves mean and invStd (C) for the backward pass and updates the running statistics
     * as PyTorch does: running = (1 - momentum) * running + momentum * batch, using the UNBIASED
     * variance (M / (M - 1)) for runningVar. {@code y} may not alias {@code x}.
     */
    void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                               Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd,
                               Tensor y, boolean relu);

    /**
     * A residual block's join in one op: y = max(BN(x) + residual, 0), with BN as
     * {@link #batchNormTrainForward} without ReLU (same statistics, saved and running values), its
     * output rounded to float before the add, so the values are those of that op followed by
     * {@link #addRelu}, which is what this default does. {@code y} may alias neither x nor residual.
     */
    default void batchNormTrainForwardAddRelu(Tensor x, Tensor gamma, Tensor beta, float momentum, float eps,
                                              Tensor runningMean, Tensor runningVar, Tensor saveMean,
                                              Tensor saveInvStd, Tensor residual, Tensor y) {
        batchNormTrainForward(x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd, y,
                false);
        addRelu(y, residual, y);
    }

    /** Evaluation-mode batch norm with the running statistics, then ReLU when {@code relu}. */
    void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                   Tensor runningVar, float eps, Tensor y, boolean relu);

    /**
     * Backward of {@link #batchNormTrainForward}. When {@code relu}, dy is the gradient w.r.t. the
     * post-ReLU output {@code y} and is masked by y > 0 first; otherwise {@code y} may be null.
     * dx += ..., dgamma += sum(dy * xhat), dbeta += sum(dy).
     */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                           Tensor y, boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta);

    /**
     * {@link #batchNormBackward} with dx accumulated or assigned (false: dx = ..., its old contents
     * ignored); dgamma and dbeta accumulate either way. The default zeroes dx, then accumulates.
     */
    default void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                   Tensor y, boolean relu, Tensor dx, Tensor dgamma, Tensor dbeta,
                                   boolean accumulate) {
        if (!accumulate) {
            zero(dx);
        }
        batchNormBackward(x, dy, gamma, saveMean, saveInvStd, y, relu, dx, dgamma, dbeta);
    }

    /** y = max(x, 0). {@code y} may alias {@code x}. */
    void reluForward(Tensor x, Tensor y);

    /** dx += dy where y > 0 (y is the ReLU's output). */
    void reluBackward(Tensor y, Tensor dy, Tensor dx);

    /**
     * {@link #reluBackward} with dx accumulated or assigned (false: dx = dy where y > 0, else 0). The
     * default zeroes dx, then accumulates.
     */
    default void reluBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        if (!accumulate) {
            zero(dx);
        }
        reluBackward(y, dy, dx);
    }

    // ------------------------------------------------------------------ pooling

    /** Max pool with padding as -infinity. x (N, H, W, C), y (N, P, Q, C). */
    void maxPoolForward(PoolGeometry g, Tensor x, Tensor y);

    /**
     * dx += dy routed to the first maximum of each window (row-major window order, as PyTorch picks
     * it). The argmax is recomputed from x, so nothing but x and y is saved.
     */
    void maxPoolBackward(PoolGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /** y[n, c] = mean over (h, w) of x[n, h, w, c]. x (N, H, W, C), y (N, C). */
    void globalAvgPoolForward(Tensor x, Tensor y);

    /** dx[n, h, w, c] += dy[n, c] / (H * W). */
    void globalAvgPoolBackward(Tensor dy, Tensor dx);

    /**
     * PyTorch's adaptive average pool: output cell (i, j) averages rows [floor(i*H/P), ceil((i+1)*H/P))
     * and the matching columns. x (N, H, W, C), y (N, P, Q, C); sizes come from the shapes.
     */
    void adaptiveAvgPoolForward(Tensor x, Tensor y);

    /** dx += the adjoint of {@link #adaptiveAvgPoolForward}. */
    void adaptiveAvgPoolBackward(Tensor dy, Tensor dx);

    // ------------------------------------------------------------------ linear

    /** y = x w^T (+ b). x (N, I), w (O, I) (PyTorch's layout), b (O) or null, y (N, O). */
    default void linearForward(Tensor x, Tensor w, Tensor b, Tensor y) {
        Check.rank("linearForward", "x", x, 2, "(N, I)");
        Check.rank("linearForward", "w", w, 2, "(O, I)");
        int n = x.shape().dim(0), in = x.shape().dim(1), out = w.shape().dim(0);
        Check.shape("linearForward", "w", w, Shape.of(out, in));
        Check.shape("linearForward", "y", y, Shape.of(n, out));
        gemm(false, true, n, out, in, 1f, x, w, 0f, y);
        if (b != null) {
            Check.shape("linearForward", "b", b, Shape.of(out));
            biasAdd(y, b);
        }
    }

    /** dx += dy w (when dx is not null), dw += dy^T x, db += column sums of dy (when db is not null). */
    default void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int n = x.shape().dim(0), in = x.shape().dim(1), out = w.shape().dim(0);
        Check.shape("linearBackward", "dy", dy, Shape.of(n, out));
        Check.shape("linearBackward", "dw", dw, Shape.of(out, in));
        if (dx != null) {
            Check.same("linearBackward", "dx", dx, "x", x);
            gemm(false, false, n, in, out, 1f, dy, w, 1f, dx);
        }
        gemm(true, false, out, in, n, 1f, dy, x, 1f, dw);
        if (db != null) {
            biasBackward(dy, db);
        }
    }

    // ------------------------------------------------------------------ dropout

    /**
     * Channel dropout (PyTorch's Dropout2d in training): whole channels of each sample are zeroed with
     * probability p, the rest scaled by 1/(1-p). The decision is {@link DropoutMask#scale}(seed, n, c, p),
     * written to {@code mask} (N, C) for the backward pass. x, y (N, H, W, C).
     */
    void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y);

    /** dx[n, h, w, c] += dy[n, h, w, c] * mask[n, c]. */
    void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx);

    // ------------------------------------------------------------------ resize

    /**
     * Bilinear resize as PyTorch's F.interpolate(mode='bilinear'). x (N, H, W, C), y (N, OH, OW, C).
     * With align_corners false the source coordinate is (dst + 0.5) * in/out - 0.5 clamped at 0; with
     * true it is dst * (in - 1)/(out - 1) (0 when out is 1).
     */
    void resizeBilinearForward(Tensor x, Tensor y, boolean alignCorners);

    /** dx += the adjoint of {@link #resizeBilinearForward}. dy (N, OH, OW, C), dx (N, H, W, C). */
    void resizeBilinearBackward(Tensor dy, Tensor dx, boolean alignCorners);

    // ------------------------------------------------------------------ channel blocks

    /**
     * Copies a block of channels between two maps with the same rows: for every row m and j < count,
     * dst[m, dstChannel + j] = src[m, srcChannel + j], or += when {@code accumulate}; dst's other channels
     * are left as they are. src (M, Cs) and dst (M, Cd) are tensors whose last dimension is the channel
     * count (NHWC maps of the same N, H, W seen so). Two assigning calls concatenate two maps along
     * channels (FCN's concat_input); two accumulating calls split the concatenation's gradient back. src
     * and dst may not overlap.
     */
    void copyChannels(Tensor src, int srcChannel, Tensor dst, int dstChannel, int count, boolean accumulate);

    // ------------------------------------------------------------------ losses and normalisation

    /**
     * Per-pixel softmax cross-entropy. logits (M, C) (NHWC logits viewed so), labels I32 (M), probs (M, C)
     * receives the softmax for the backward pass, loss (1) the scalar loss. Pixels labelled
     * {@code ignoreIndex} contribute nothing. The loss is the sum over pixels divided by M (mmsegmentation
     * 0.x's mean over ALL pixels) or, when {@code averageNonIgnored}, by the number of non-ignored pixels
     * (0 if there are none; the loss is then 0). A label outside [0, C) that is not the ignore index throws,
     * naming the label and pixel.
     */
    void softmaxCrossEntropyForward(Tensor logits, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                    Tensor probs, Tensor loss);

    /** dlogits += scale * (probs - onehot(label)) / denominator, zero rows for ignored pixels. */
    void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, int ignoreIndex, boolean averageNonIgnored,
                                     float scale, Tensor dlogits);

    /**
     * L2 normalisation along the last dimension, as F.normalize: y = x / max(||x||, eps). x, y (M, C);
     * norms (M) receives the UNCLAMPED norms ||x|| for the backward pass.
     */
    void l2NormalizeForward(Tensor x, float eps, Tensor y, Tensor norms);

    /**
     * dx += (dy - y * (y . dy)) / ||x|| per row, or dy / eps for rows whose norm was below eps (there the
     * divisor is the constant eps).
     */
    void l2NormalizeBackward(Tensor y, Tensor norms, float eps, Tensor dy, Tensor dx);

    // ------------------------------------------------------------------ DenseCL contrastive kernels

    /**
     * DenseCL's dense correspondence, step 1 (match): for every image n and query location i,
     * {@code indices[n, i] = argmax_j qb[n, i, :] . kb[n, j, :]}, i.e. the argmax over key locations of
     * the per-image similarity Sim[n] = qb[n] kb[n]^T (S2 x S2). Ties go to the FIRST (smallest) key index;
     * NaN similarities never win (a row of NaN gives 0).
     *
     * <p>qb, kb (N, S2, C): the L2-normalised backbone (C5) features of the query and key views, NHWC
     * flattened (S2 = S * S locations in row-major grid order, C = 2048 channels), so Sim is cosine
     * similarity. indices I32 (N, S2), overwritten. The similarity matrices are a backend-held scratch
     * (grown once to the largest N * S2 * S2 seen), never returned: only the indices cross the
     * interface, so no host read of tensor data is needed. No gradient flows through this op.
     */
    void denseMatch(Tensor qb, Tensor kb, Tensor indices);

    /**
     * DenseCL's dense correspondence, step 2 (gather): {@code out[n, i, :] = grid[n, indices[n, i], :]},
     * the matched key vector of every query location (the dense positives, spec 2.1 step 10). grid
     * (N, S2, D) (the projected, normalised key grid), indices I32 (N, S2) with values in [0, S2) (from
     * {@link #denseMatch}), out (N, S2, D), overwritten; out may not alias grid. An index out of range
     * throws, naming it. A constant for the loss, so there is no backward.
     */
    void denseGather(Tensor grid, Tensor indices, Tensor out);

    /**
     * The InfoNCE (MoCo / DenseCL contrastive head) loss and its gradient w.r.t. the anchors, in one
     * call. Row r has logits z = [u_r . pos_r, u_r . queue_0, ..., u_r . queue_{K-1}] / tau and
     * contributes w * CE(z, target 0) = w * (logsumexp(z) - z_0); {@code loss[0]} is OVERWRITTEN with
     * the sum over rows (w = 1/R gives the mean of nn.CrossEntropyLoss; spec 2.2 uses (1-lambda)/N and
     * lambda/(N*S2)). With p = softmax(z), the anchor gradient (spec 2.3) is ACCUMULATED:
     * {@code dAnchors[r] += w / tau * ((p_0 - 1) * pos_r + sum_j p_{j+1} * queue_j)}. Positives and the
     * queue are constants (no gradient).
     *
     * <p>anchors u (R, D) (L2-normalised query vectors: q, or the dense qgrid rows n * S2 + i),
     * positives (R, D), queue (K, D): the K negative keys stored as K ROWS of D floats (row-major keys,
     * i.e. the transpose of the reference code's D x K column queue, so enqueueing a key is one
     * contiguous row write), loss (1), dAnchors (R, D) or null to compute the loss only.
     *
     * <p>The rows are processed in blocks (a backend-chosen block of rows, a grow-once scratch), so the
     * R x (K + 1) logits are never held whole; this is exact. Logits are shifted by their row maximum
     * before exponentiation, so nothing overflows for any tau.
     */
    void infoNceLoss(Tensor anchors, Tensor positives, Tensor queue, float temperature, float weight,
                     Tensor loss, Tensor dAnchors);

    // ------------------------------------------------------------------ optimisation

    /**
     * One SGD step with PyTorch's semantics (dampening 0, no Nesterov): g = grad + weightDecay * param;
     * buf = momentum * buf + g; param -= lr * buf. A zero buffer makes the first step buf = g, as PyTorch.
     */
    void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float weightDecay);

    /** The momentum encoder's update: target = m * target + (1 - m) * source. */
    void emaUpdate(Tensor target, Tensor source, float m);

    /** Releases every allocation made by this backend. Tensors from it are invalid afterwards. */
    @Override
    void close();
}
