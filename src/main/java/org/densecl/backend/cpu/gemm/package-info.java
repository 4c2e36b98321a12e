/**
 * The cpu backend's pure-Java GEMM and the im2col views that turn convolutions into it.
 *
 * <ul>
 *   <li>{@link org.densecl.backend.cpu.gemm.VectorGemm}: the GotoBLAS/BLIS loop nest (cache blocks
 *       MC x KC of A in L2, KC x NC of B, L2 slices of NL2 columns), split over the backend's threads.</li>
 *   <li>MicroKernel: the 6x16 register tile, 12 FMAs per k step (12 accumulators hide the FMA latency).</li>
 *   <li>{@link org.densecl.backend.cpu.gemm.ASource} / {@link org.densecl.backend.cpu.gemm.BSource}:
 *       how an operand packs itself into the micro-kernel's panels. Dense matrices
 *       ({@link org.densecl.backend.cpu.gemm.MatrixPanels}), the im2col matrix of an NHWC tensor as A
 *       ({@link org.densecl.backend.cpu.gemm.Im2colA}, forward and stride-1 data gradient) or as B
 *       ({@link org.densecl.backend.cpu.gemm.Im2colB}, filter gradient), and the rotated filter of the
 *       stride-1 data gradient ({@link org.densecl.backend.cpu.gemm.FlippedFilterB}). Convolutions
 *       therefore never build a column matrix on this path (implicit GEMM).</li>
 *   <li>{@link org.densecl.backend.cpu.gemm.MatrixRows}: the views can also write out whole rows, which
 *       is how the openblas provider of {@code CpuGemm.run} (the one route from a convolution to a GEMM)
 *       materialises them, block by block.</li>
 *   <li>{@link org.densecl.backend.cpu.gemm.Col2im}: the scatter-add for strided data gradients.</li>
 * </ul>
 *
 * The public entry points are {@link org.densecl.backend.cpu.CpuGemm} and
 * {@link org.densecl.backend.cpu.CpuConv}; this package is their machinery.
 */
package org.densecl.backend.cpu.gemm;
