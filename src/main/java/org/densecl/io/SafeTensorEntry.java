package org.densecl.io;

import org.densecl.tensor.Shape;

/**
 * One tensor of a safetensors file, as its header describes it: the name, the element type, the shape
 * (outermost first, PyTorch's layout as stored) and its byte range [begin, end) relative to the start of
 * the data section. A scalar has rank 0 and one element.
 */
public record SafeTensorEntry(String name, SafeDType dtype, Shape shape, long begin, long end) {

    /** Number of elements (1 for a scalar). */
    public long numel() {
        return shape.numel();
    }

    /** Number of data bytes, end - begin. */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shape;
    }
}
