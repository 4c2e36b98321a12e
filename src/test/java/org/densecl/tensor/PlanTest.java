package org.densecl.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class PlanTest {
    @Test
    void viewsAreAlignedDisjointAndSized() {
        try (Arena arena = Arena.ofConfined()) {
            Plan plan = new Plan().add("a", Shape.of(3, 5)).add("b", DType.I32, Shape.of(7)).add("c", Shape.of(2, 2, 2, 3));
            plan.allocate(bytes -> arena.allocate(bytes, Plan.ALIGN), true);
            Tensor a = plan.get("a"), b = plan.get("b"), c = plan.get("c");
            assertEquals(15, a.numel());
            assertEquals(DType.I32, b.dtype());
            assertEquals(0, a.data().address() % Plan.ALIGN);
            assertEquals(0, b.data().address() % Plan.ALIGN);
            assertEquals(0, c.data().address() % Plan.ALIGN);
            assertTrue(b.data().address() >= a.data().address() + a.byteSize());
            assertTrue(c.data().address() >= b.data().address() + b.byteSize());
            a.setFloat(14, 1.5f);
            b.setInt(0, 42);
            assertEquals(1.5f, a.getFloat(14));
            assertEquals(42, b.getInt(0));
        }
    }

    @Test
    void badUseIsNamed() {
        Plan plan = new Plan().add("x", Shape.of(2));
        var dup = assertThrows(IllegalArgumentException.class, () -> plan.add("x", Shape.of(2)));
        assertTrue(dup.getMessage().contains("'x'"));
        var early = assertThrows(IllegalStateException.class, () -> plan.get("x"));
        assertTrue(early.getMessage().contains("before allocate"));
    }

    @Test
    void viewAndSliceCheckSizes() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.wrap(DType.F32, Shape.of(2, 3, 4), arena.allocate(96));
            assertEquals(Shape.of(6, 4), t.view(6, 4).shape());
            var ex = assertThrows(IllegalArgumentException.class, () -> t.view(5, 5));
            assertTrue(ex.getMessage().contains("(2, 3, 4)") && ex.getMessage().contains("(5, 5)"));
            Tensor second = t.slice(12, Shape.of(3, 4));
            second.setFloat(0, 7f);
            assertEquals(7f, t.getFloat(12));
            assertThrows(IllegalArgumentException.class, () -> t.slice(20, Shape.of(5)));
        }
    }
}
