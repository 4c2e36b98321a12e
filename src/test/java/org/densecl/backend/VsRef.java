package org.densecl.backend;

import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;

/**
 * A backend under test ("dut") and the ref backend side by side, for tests that run one op on both with
 * identical F32 inputs and compare. Inputs are made on the ref side (host memory) and copied to the other
 * backend with its upload; results come back through its download, so the same test body serves a host
 * backend (cpu) and a device backend (cuda).
 */
public class VsRef implements AutoCloseable {
    public final RefBackend ref = new RefBackend();
    private final Backend dut;

    /** The same tensor on both backends. */
    public record Pair(Tensor ref, Tensor dut) {}

    public VsRef(Backend dut) {
        this.dut = dut;
    }

    /** Zero-filled F32 pair. */
    public Pair zeros(int... dims) {
        return new Pair(ref.allocate(Shape.of(dims)), dut.allocate(Shape.of(dims)));
    }

    /** Uniform in [lo, hi) on both, from one seed. */
    public Pair uniform(long seed, double lo, double hi, int... dims) {
        Pair p = zeros(dims);
        Rand.uniform(p.ref(), seed, lo, hi);
        mirror(p);
        return p;
    }

    /** Normal(0, std) on both. */
    public Pair normal(long seed, double std, int... dims) {
        Pair p = zeros(dims);
        Rand.normal(p.ref(), seed, std);
        mirror(p);
        return p;
    }

    /** I32 labels in [0, bound), about {@code ignoreFraction} of them {@code ignore}, on both. */
    public Pair labels(long seed, int bound, int ignore, double ignoreFraction, int m) {
        Pair p = new Pair(ref.allocate(DType.I32, Shape.of(m)), dut.allocate(DType.I32, Shape.of(m)));
        Rand.labels(p.ref(), seed, bound, ignore, ignoreFraction);
        int[] v = new int[m];
        for (int i = 0; i < m; i++) {
            v[i] = p.ref().getInt(i);
        }
        dut.upload(v, p.dut());
        return p;
    }

    /** Copies the ref tensor's values into the other one (after editing the ref tensor by hand). */
    public void mirror(Pair p) {
        dut.upload(floats(p.ref()), p.dut());
    }

    /** |dut - ref| <= atol + rtol * |ref| element by element; the message names {@code what}. */
    public void close(String what, Pair p, double atol, double rtol) {
        Tensor got = ref.allocate(p.ref().shape());
        ref.upload(download(p), got);
        if (Boolean.getBoolean("densecl.test.printDiffs")) {
            printDiffs(what, p.ref(), got, rtol);
        }
        TensorAssert.close(what, p.ref(), got, atol, rtol);
    }

    /** The other backend's values of {@code p}. */
    public float[] download(Pair p) {
        float[] v = new float[(int) p.dut().numel()];
        dut.download(p.dut(), v);
        return v;
    }

    /** A host F32 tensor's values as floats. */
    public static float[] floats(Tensor t) {
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.getFloat(i);
        }
        return v;
    }

    /**
     * With -Ddensecl.test.printDiffs=true: the largest |dut - ref| and the smallest atol (given rtol)
     * that would pass, which is how the tolerances in these tests were chosen (with a margin).
     */
    private static void printDiffs(String what, Tensor want, Tensor got, double rtol) {
        double maxDiff = 0, neededAtol = 0;
        for (long i = 0; i < want.numel(); i++) {
            double e = want.get(i), diff = Math.abs(e - got.get(i));
            maxDiff = Math.max(maxDiff, diff);
            neededAtol = Math.max(neededAtol, diff - rtol * Math.abs(e));
        }
        System.out.printf("DIFF %-70s max|diff| %.2e  needed atol %.2e (rtol %.1e)%n", what, maxDiff, neededAtol,
                rtol);
    }

    @Override
    public void close() {
        dut.close();
        ref.close();
    }
}
