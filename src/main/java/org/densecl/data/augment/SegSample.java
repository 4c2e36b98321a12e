package org.densecl.data.augment;

/**
 * One augmented segmentation sample: image (height, width, channels) normalised floats and labels
 * (height, width) class indices with the ignore index where the crop was padded.
 */
public record SegSample(int height, int width, int channels, float[] image, byte[] labels) {}
