package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Without a GPU: the cuda backend's ops take device tensors only. A host tensor handed to an op is refused
 * with the op's name (never read on the host, never copied: no silent fallback), and a device tensor's
 * memory cannot be read on the host at all, so an op that tried would fail every GPU test.
 */
class CudaArgsTest {

    @Test
    void hostTensorsAreRefusedWithTheOpsName() {
        try (RefBackend ref = new RefBackend()) {
            Tensor host = ref.allocate(Shape.of(3, 4));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CudaArgs.f32("conv2dForward", "x", host));
            assertTrue(e.getMessage().contains("conv2dForward") && e.getMessage().contains("host memory"),
                    e.getMessage());
        }
    }

    @Test
    void deviceTensorsGiveTheirAddressAndCannotBeReadOnTheHost() {
        Tensor dev = Tensor.device(DType.F32, Shape.of(5), MemorySegment.ofAddress(0x7f0000001000L));
        assertEquals(0x7f0000001000L, CudaArgs.f32Address("scale", "x", dev));
        assertEquals(0x7f0000001000L + 8, CudaArgs.f32Address("scale", "x", dev.slice(2, Shape.of(3))));
        assertThrows(IndexOutOfBoundsException.class, () -> dev.getFloat(0));
        assertThrows(IllegalArgumentException.class, () -> CudaArgs.i32("denseGather", "indices", dev),
                "an F32 tensor where I32 indices are expected");
    }
}
