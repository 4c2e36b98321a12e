/**
 * Semantic segmentation on the DenseCL backbone: mmsegmentation's FCN R50-D8 (spec section 4).
 * {@link org.densecl.seg.FcnHead} is mmseg's FCNHead, {@link org.densecl.seg.SegmentationModel} the
 * backbone, decode and auxiliary heads and the ignore-index cross-entropy, forward and backward by hand;
 * {@link org.densecl.seg.SegmentationConfig} says which variant, {@link org.densecl.seg.SegmentationConfig#fcnR50D8()}
 * being the paper's.
 */
package org.densecl.seg;
