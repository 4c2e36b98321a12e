/**
 * The reference backend: scalar, single-threaded, readable loops that every other backend is tested
 * against, and that are themselves checked by float64 finite differences (src/test: GradCheck).
 *
 * <p>Backward derivations worth writing down once (per channel or per row; sums run over the M rows):
 * <ul>
 *   <li><b>Batch norm.</b> xhat = (x - mu) * s with s = 1/sqrt(var + eps), y = gamma * xhat + beta.
 *       With g = dL/dy: dL/dxhat = gamma * g; d var/dx_i = 2 (x_i - mu) / M and d mu/dx_i = 1/M give
 *       dL/dx_i = gamma * s * (g_i - mean(g) - xhat_i * mean(g * xhat)). A fused ReLU only replaces g by
 *       g * [y > 0] first. (Running statistics take no gradient.)</li>
 *   <li><b>L2 normalise.</b> y = x / n with n = ||x||: dy_j/dx_i = (delta_ij - y_i y_j) / n, so
 *       dL/dx = (g - y (y . g)) / n. Below eps the divisor is the constant eps and dL/dx = g / eps.</li>
 *   <li><b>Softmax cross-entropy.</b> loss = logsumexp(x) - x_label, d loss/dx = softmax(x) - onehot(label),
 *       divided by the same denominator as the forward (M, or the non-ignored count).</li>
 *   <li><b>Bilinear resize and adaptive average pooling</b> are linear maps y = A x, so their backward is
 *       dx += A^T dy: each output element hands its weights' share of dy back to the inputs it read.</li>
 *   <li><b>Convolution.</b> y[n,p,q,k] = sum x[n, p*sh - ph + r*dh, q*sw - pw + s*dw, c] w[k,r,s,c]; the
 *       backward data pass gathers, for each input pixel, the (p, r) with p*sh - ph + r*dh = h.</li>
 * </ul>
 */
package org.densecl.backend.ref;
