package org.densecl.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The op profile times only while recording, keys convolutions by shape, and passes op errors through. */
class OpProfileTest {
    @Test
    void timesRecordedCallsByOpAndConvShape() {
        try (Backend raw = new RefBackend()) {
            OpProfile prof = OpProfile.of(raw);
            Backend be = prof.backend();
            ConvGeometry g = ConvGeometry.of(1, 5, 5, 2, 3, 3, 1, 1, 1);
            Tensor x = be.allocate(g.xShape()), w = be.allocate(g.wShape()), y = be.allocate(g.yShape());
            be.reluForward(x, x); // not recorded
            prof.record(true);
            be.conv2dForward(g, x, w, null, y);
            be.conv2dForward(g, x, w, null, y);
            be.reluForward(y, y);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            prof.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), 1, 1.0, 10);
            String table = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(table.contains("conv2dForward 3x3/1 2->3 at 5x5"), table);
            assertTrue(table.matches("(?s).*conv2dForward 3x3/1 2->3 at 5x5\\s+2 .*"), "two conv calls:\n" + table);
            assertTrue(table.matches("(?s).*reluForward\\s+1 .*"), "one recorded relu call:\n" + table);
            // an op's own exception reaches the caller unwrapped
            assertThrows(IllegalArgumentException.class, () -> be.reluForward(x, be.allocate(Shape.of(3))));
        }
    }
}
