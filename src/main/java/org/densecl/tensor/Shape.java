package org.densecl.tensor;

import java.util.Arrays;

/**
 * An immutable list of dimensions, outermost first. Activations are NHWC, conv weights KRSC
 * (out channels, kernel rows, kernel columns, in channels), matrices (rows, columns).
 */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
        }
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    /** Dimension i; negative i counts from the end (-1 is the last). */
    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public int[] dims() {
        return dims.clone();
    }

    public long numel() {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    /** The last dimension (channels for NHWC, columns for a matrix). */
    public int last() {
        return dims[dims.length - 1];
    }

    /** Product of all dimensions but the last: the number of rows when viewed as (rows, last). */
    public long rows() {
        return dims.length == 0 ? 1 : numel() / Math.max(1, last());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** "(2, 7, 7, 64)": the form used in every error message. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        return sb.append(')').toString();
    }
}
