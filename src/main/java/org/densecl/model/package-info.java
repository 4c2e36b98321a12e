/**
 * Models assembled from {@link org.densecl.nn} layers with straight-line forward and backward passes.
 * {@link org.densecl.model.ResNet} is torchvision's ResNet-18/34/50/101/152 (v1.5) with an input-channel
 * count, a width, output stride 8/16 (mmsegmentation's D8/D16 dilation) and an optional classifier;
 * {@link org.densecl.model.ResNetConfig} says which, and why its defaults are what they are.
 */
package org.densecl.model;
