package org.densecl.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Parameters and Activations: declaration, allocation, binding, whole-slab zeroing, misuse. */
class RegistryTest {
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    @Test
    void parametersDeclareAllocateAndBind() {
        Parameters p = new Parameters(DType.F64);
        Param w = p.weight("conv.weight", Shape.of(3, 1, 1, 5));
        Param g = p.norm("bn.weight", Shape.of(3));
        Param m = p.buffer("bn.running_mean", Shape.of(3));
        BatchCounter c = p.counter("bn.num_batches_tracked");
        Param b = p.bias("fc.bias", Shape.of(7));
        assertEquals(15 + 3 + 7, p.trainableCount(), "known before allocation");
        assertEquals(3, p.bufferCount());
        assertEquals(List.of("conv.weight", "bn.weight", "bn.running_mean", "bn.num_batches_tracked", "fc.bias"),
                p.keys());
        assertEquals(List.of(w, g, b), p.trainable());
        assertThrows(IllegalStateException.class, w::value, "use before allocation names the parameter");
        assertThrows(IllegalArgumentException.class, () -> p.norm("conv.weight", Shape.of(2)), "duplicate name");

        p.allocate(be);
        assertEquals(DType.F64, w.value().dtype());
        assertEquals(Shape.of(3, 1, 1, 5), w.grad().shape());
        assertThrows(IllegalStateException.class, m::grad, "a buffer has no gradient");
        assertSame(w, p.weight("conv.weight", Shape.of(3, 1, 1, 5)), "declaring after allocation binds");
        assertSame(c, p.counter("bn.num_batches_tracked"));
        assertThrows(IllegalStateException.class, () -> p.weight("conv.weight", Shape.of(5, 1, 1, 3)), "shape");
        assertThrows(IllegalStateException.class, () -> p.bias("conv.weight", Shape.of(3, 1, 1, 5)), "role");
        assertThrows(IllegalStateException.class, () -> p.weight("new.weight", Shape.of(1)), "new name");
        assertThrows(IllegalStateException.class, () -> p.allocate(be), "allocate twice");

        // zeroGrads clears every gradient (one slab) and no value.
        for (Param q : p.trainable()) {
            Rand.uniform(q.grad(), 1, 1, 2);
            Rand.uniform(q.value(), 2, 1, 2);
        }
        p.zeroGrads();
        for (Param q : p.trainable()) {
            assertTrue(all(q.grad(), 0), q.name() + " gradient zeroed");
            assertFalse(all(q.value(), 0), q.name() + " value kept");
        }
    }

    @Test
    void activationsKindsAndZeroing() {
        Activations a = new Activations(DType.F32);
        Act y = a.act("conv", Shape.of(2, 3, 3, 4));
        Act s = a.saved("bn.mean", Shape.of(4));
        Act d = a.gradOnly("block.add", Shape.of(2, 3, 3, 4));
        assertEquals(4L * (72 + 72 + 4 + 72), a.byteSize(), "value+grad, value, grad");
        assertThrows(IllegalStateException.class, y::value, "before allocation");
        a.allocate(be);
        assertThrows(IllegalStateException.class, s::grad, "saved statistics have no gradient");
        assertThrows(IllegalStateException.class, d::value, "a gradient-only activation has no value");
        assertThrows(IllegalStateException.class, () -> a.act("late", Shape.of(1)), "no declaring after allocate");
        Rand.uniform(y.grad(), 3, 1, 2);
        Rand.uniform(d.grad(), 4, 1, 2);
        Rand.uniform(y.value(), 5, 1, 2);
        a.zeroGrads();
        assertTrue(all(y.grad(), 0) && all(d.grad(), 0), "every activation gradient zeroed");
        assertFalse(all(y.value(), 0), "values kept");

        Activations inf = new Activations(DType.F32, true);
        Act z = inf.act("conv", Shape.of(2, 2));
        inf.gradOnly("add", Shape.of(2, 2));
        assertEquals(16, inf.byteSize(), "an inference plan holds values only");
        inf.allocate(be);
        assertFalse(z.hasGrad());
        assertThrows(IllegalStateException.class, z::grad);
    }

    @Test
    void onlyFloatDtypes() {
        assertThrows(IllegalArgumentException.class, () -> new Parameters(DType.I32));
        assertThrows(IllegalArgumentException.class, () -> new Activations(DType.I32));
    }

    private static boolean all(Tensor t, double v) {
        for (long i = 0; i < t.numel(); i++) {
            if (t.get(i) != v) {
                return false;
            }
        }
        return true;
    }
}
