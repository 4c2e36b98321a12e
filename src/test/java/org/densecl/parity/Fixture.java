package org.densecl.parity;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Locale;
import org.densecl.backend.Backend;
import org.densecl.io.SafeTensors;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.TensorAssert;

/**
 * One PyTorch fixture from src/test/resources/fixtures (written by src/test/python/make_fixtures.py),
 * seen in the engine's layouts: every rank-4 tensor is stored in PyTorch's NCHW / OIHW and is permuted
 * here to NHWC / KRSC, the same permutation (0, 2, 3, 1) in both cases. Inputs are stored as F32 (the
 * exact values PyTorch used), results as F64 computed in float64, so a comparison measures only the
 * backend's own error.
 *
 * <p>Run with {@code -Dparity.verbose=true} to print the largest difference of every comparison.
 */
final class Fixture implements AutoCloseable {
    private static final boolean VERBOSE = Boolean.getBoolean("parity.verbose");

    private final String name;
    private final Path path;
    private final SafeTensors st;

    private Fixture(String name, Path path, SafeTensors st) {
        this.name = name;
        this.path = path;
        this.st = st;
    }

    /** Opens fixtures/{name}.safetensors from the test classpath. */
    static Fixture open(String name) {
        URL url = Fixture.class.getResource("/fixtures/" + name + ".safetensors");
        if (url == null) {
            throw new IllegalStateException("fixture " + name + ".safetensors is not on the test classpath;"
                    + " regenerate with /usr/bin/python3 src/test/python/make_fixtures.py");
        }
        try {
            Path path = Path.of(url.toURI());
            return new Fixture(name, path, SafeTensors.open(path));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    String name() {
        return name;
    }

    /** The file, for loaders that take a path (StateDict, FinetuneCheckpoint). */
    Path path() {
        return path;
    }

    String meta(String key) {
        return st.metadata(key);
    }

    int metaInt(String key) {
        return Integer.parseInt(st.metadata(key));
    }

    float metaFloat(String key) {
        return Float.parseFloat(st.metadata(key));
    }

    boolean metaBool(String key) {
        return Boolean.parseBoolean(st.metadata(key));
    }

    /** Every tensor name in the file. */
    java.util.List<String> names() {
        return st.names();
    }

    boolean has(String tensor) {
        return st.contains(tensor);
    }

    /** The stored (PyTorch) dims of {@code tensor}. */
    int[] torchDims(String tensor) {
        return st.shape(tensor).dims();
    }

    /** Tensor {@code tensor} as a new {@code dtype} tensor of backend {@code be}, channels last. */
    Tensor load(Backend be, DType dtype, String tensor) {
        int[] dims = torchDims(tensor);
        Tensor t = be.allocate(dtype, Shape.of(channelsLastDims(dims)));
        if (dtype == DType.I32) {
            int[] v = st.ints(tensor);
            for (int i = 0; i < v.length; i++) {
                t.setInt(i, v[i]); // labels are (N, H, W): no channel axis to move
            }
            return t;
        }
        double[] v = channelsLast(st.doubles(tensor), dims);
        for (int i = 0; i < v.length; i++) {
            t.set(i, v[i]); // F32 inputs round-trip exactly; F64 results round to dtype
        }
        return t;
    }

    /** The expected values of {@code tensor} as an F64 host tensor of {@code be}, channels last. */
    Tensor expected(Backend be, String tensor) {
        return load(be, DType.F64, tensor);
    }

    /**
     * Asserts |actual - expected| <= atol + rtol * |expected| element-wise (expected = fixture tensor
     * {@code tensor}, channels last), naming the fixture and the op in the failure.
     */
    void check(Backend be, String op, String tensor, Tensor actual, double atol, double rtol) {
        Tensor want = expected(be, tensor);
        String what = name + ": " + op + " " + tensor + " (" + be.name() + ", " + actual.dtype() + ")";
        if (VERBOSE) {
            double maxAbs = 0, maxRel = 0;
            for (long i = 0; i < want.numel(); i++) {
                double d = Math.abs(want.get(i) - actual.get(i));
                maxAbs = Math.max(maxAbs, d);
                maxRel = Math.max(maxRel, d / Math.max(Math.abs(want.get(i)), 1e-30));
            }
            System.out.println(String.format(Locale.ROOT, "parity %-60s max|diff| %.3e  max rel %.3e  (atol %.0e rtol %.0e)",
                    what, maxAbs, maxRel, atol, rtol));
        }
        TensorAssert.close(what, want, actual, atol, rtol);
    }

    /** NCHW (or OIHW) dims to NHWC (KRSC); other ranks are unchanged. */
    static int[] channelsLastDims(int[] d) {
        return d.length == 4 ? new int[] {d[0], d[2], d[3], d[1]} : d.clone();
    }

    /** Permutes row-major (A, B, C, D) data to (A, C, D, B); other ranks are returned as they are. */
    static double[] channelsLast(double[] v, int[] d) {
        if (d.length != 4) {
            return v;
        }
        int a = d[0], b = d[1], h = d[2], w = d[3];
        double[] out = new double[v.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out[((i * h + y) * w + x) * b + j] = v[((i * b + j) * h + y) * w + x];
                    }
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        st.close();
    }
}
