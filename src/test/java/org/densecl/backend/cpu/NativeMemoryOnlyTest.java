package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The cpu backend works on native memory only (see {@link CpuVec#f32} for why: one heap segment in the
 * Vector API's segment accesses slows every loop compiled after it). Its ops reject a
 * heap tensor, and its own sources create no heap segment for its internal buffers either.
 */
class NativeMemoryOnlyTest {
    @Test
    void anOpRejectsATensorOnTheJavaHeapNamingIt() {
        try (CpuBackend be = new CpuBackend(1, "vector")) {
            Tensor heap = Tensor.wrap(DType.F32, Shape.of(2, 3), MemorySegment.ofArray(new float[6]));
            Tensor out = be.allocate(DType.F32, Shape.of(2, 3));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.add(heap, out, out));
            assertTrue(e.getMessage().contains("on the Java heap"), e.getMessage());
        }
    }

    @Test
    void noCpuBackendSourceMakesAHeapSegment() throws IOException {
        Path root = Path.of("src/main/java/org/densecl/backend/cpu");
        assertTrue(Files.isDirectory(root), "run from the project root: " + root.toAbsolutePath());
        List<Path> offenders;
        try (Stream<Path> files = Files.walk(root)) {
            offenders = files.filter(f -> f.toString().endsWith(".java")).filter(f -> {
                try {
                    String src = Files.readString(f);
                    return src.contains("MemorySegment.ofArray(") || src.contains("MemorySegment.ofBuffer(");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
        assertEquals(List.of(), offenders, "heap segments in the cpu backend (use native memory: CpuVec.f32 says why)");
    }
}
