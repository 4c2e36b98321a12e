package org.densecl.tensor;

/**
 * Element types a tensor can hold. Training runs in F32; F64 exists so that the reference backend can
 * be checked against finite differences in double precision; I32 holds class labels.
 */
public enum DType {
    F32(4),
    F64(8),
    I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }
}
