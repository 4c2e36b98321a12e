package org.densecl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader and writer: round trip, files from the Python writer, corrupt input. */
class SafeTensorsTest {
    @TempDir
    Path dir;

    private final Arena arena = Arena.ofAuto();

    private Tensor host(DType dtype, int... dims) {
        Shape s = Shape.of(dims);
        return Tensor.wrap(dtype, s, arena.allocate(Math.max(1, s.numel() * dtype.bytes()), 64)
                .asSlice(0, s.numel() * dtype.bytes()));
    }

    @Test
    void roundTripKeepsNamesTypesShapesValuesAndMetadata() throws IOException {
        Tensor w = host(DType.F32, 7, 3, 5, 5); // (K, C, R, S) as in a checkpoint
        Tensor d = host(DType.F64, 3, 1);
        Tensor labels = host(DType.I32, 2, 9);
        Tensor scalar = host(DType.F32);
        Tensor empty = host(DType.F32, 0, 4);
        Rand.normal(w, 1, 1.0);
        Rand.normal(d, 2, 1e-3);
        Rand.labels(labels, 3, 21, 255, 0.2);
        scalar.setFloat(0, -0.5f);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("scalar", scalar); // an F32 before an F64: the writer reorders for alignment
        tensors.put("layer1.0.conv1.weight", w);
        tensors.put("labels", labels);
        tensors.put("double", d);
        tensors.put("empty", empty);
        Map<String, String> meta = Map.of("step", "1200", "note", "é ✓");
        Path file = dir.resolve("ckpt.safetensors");
        Files.writeString(file, "an older file the write must replace");

        SafeTensors.write(file, tensors, meta);

        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(file), left.toList(), "no temp file may be left behind");
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(Map.copyOf(meta), Map.copyOf(st.metadata()));
            assertEquals(5, st.names().size());
            for (var e : tensors.entrySet()) {
                Tensor t = e.getValue();
                assertEquals(t.shape(), st.shape(e.getKey()), e.getKey());
                assertEquals(SafeDType.of(t.dtype()), st.dtype(e.getKey()), e.getKey());
                Tensor back = host(t.dtype(), t.shape().dims());
                st.copyTo(e.getKey(), back);
                for (long i = 0; i < t.numel(); i++) {
                    assertEquals(t.get(i), back.get(i), e.getKey() + "[" + i + "]");
                }
            }
            float[] wf = st.floats("layer1.0.conv1.weight");
            assertEquals(w.getFloat(124), wf[124]);
            assertEquals(d.get(2), st.doubles("double")[2]);
            assertEquals(labels.getInt(17), st.ints("labels")[17]);
            assertEquals(0, st.floats("empty").length);
            // every tensor starts on a multiple of its element size (the writer orders F64 first)
            for (String name : st.names()) {
                SafeTensorEntry e = st.entry(name);
                assertEquals(0, e.begin() % e.dtype().bytes(), name + " is misaligned at " + e.begin());
            }
        }
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "the header is padded to a multiple of 8");
    }

    @Test
    void copyToConvertsTypesAndChecksShapes() {
        Tensor a = host(DType.F32, 4, 3);
        Rand.uniform(a, 5, -2, 2);
        Path file = dir.resolve("a.safetensors");
        SafeTensors.write(file, Map.of("a", a), Map.of());
        try (SafeTensors st = SafeTensors.open(file)) {
            Tensor d = host(DType.F64, 4, 3);
            st.copyTo("a", d);
            assertEquals((double) a.getFloat(11), d.get(11));
            var wrongShape = assertThrows(SafeTensorsException.class, () -> st.copyTo("a", host(DType.F32, 3, 4)));
            assertTrue(wrongShape.getMessage().contains(file.toString()), wrongShape.getMessage());
            assertThrows(SafeTensorsException.class, () -> st.copyTo("a", host(DType.I32, 4, 3)));
            var missing = assertThrows(SafeTensorsException.class, () -> st.floats("b"));
            assertTrue(missing.getMessage().contains(file + ": no tensor named 'b'"), missing.getMessage());
            assertThrows(SafeTensorsException.class, () -> st.ints("a"));
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void readsTheFileThePythonWriterMade() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("/fixtures/io_python_writer.safetensors").toURI());
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals("pt", st.metadata("format"));
            assertEquals("unicode é ✓", st.metadata("note"));
            assertArrayEquals(new double[] {-1, -0.5, 0, 0.5, 1, 1.5}, st.doubles("f64"));
            assertEquals(Shape.of(2, 3), st.shape("f64"));
            assertArrayEquals(new float[] {1.5f, -2.25f, 0x1p-24f, 1e30f, -0.0f, 7f}, st.floats("f32"));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(st.floats("f32")[4]));
            assertEquals(SafeDType.F16, st.dtype("f16"));
            assertArrayEquals(new float[] {1f, -2.5f, 0x1p-14f, 65504f}, st.floats("f16"));
            assertEquals(SafeDType.BF16, st.dtype("bf16"));
            assertArrayEquals(new float[] {1f, -3f, 0x1p-7f, 0x1p100f}, st.floats("bf16"));
            assertArrayEquals(new int[] {0, -1, 255, Integer.MAX_VALUE, Integer.MIN_VALUE}, st.ints("i64"));
            var big = assertThrows(SafeTensorsException.class, () -> st.ints("i64_big"));
            assertTrue(big.getMessage().contains(file.toString()) && big.getMessage().contains("1099511627776"),
                    big.getMessage());
            assertArrayEquals(new int[] {1, -2, 3, -4}, st.ints("i32"));
            assertEquals(Shape.of(2, 2, 1), st.shape("i32"));
            assertEquals(0, st.shape("scalar").rank());
            assertArrayEquals(new float[] {3.25f}, st.floats("scalar"));
            assertEquals(Shape.of(0, 3), st.shape("empty"));
        }
    }

    // ------------------------------------------------------------------ corrupt input

    /** A file from a raw header string and data bytes, the length prefix set to the header's size. */
    private Path craft(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private void assertRejected(Path file, String why) {
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(file).close(), why);
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString() + ": corrupt safetensors file"), why + ": " + m);
        assertTrue(m.contains(why), "message should mention '" + why + "': " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin
                + "," + end + "]}";
    }

    @Test
    void rejectsCorruptFilesNamingTheFile() throws IOException {
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertRejected(tiny, "fewer than the 8-byte header length");

        Path hugeLen = dir.resolve("hugelen.safetensors");
        Files.write(hugeLen, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertRejected(hugeLen, "header length 1099511627776 does not fit");

        assertRejected(craft("notjson.safetensors", "{\"a\": [1, 2", 0), "not valid JSON");
        assertRejected(craft("array.safetensors", "[1, 2, 3]", 0), "not a JSON object");
        assertRejected(craft("dtype.safetensors", "{" + entry("w", "F8_E4M3", "[2]", 0, 2) + "}", 2),
                "unknown or unsupported dtype 'F8_E4M3'");
        assertRejected(craft("count.safetensors", "{" + entry("w", "F32", "[2, 3]", 0, 20) + "}", 20),
                "hold 20 bytes but F32 (2, 3) needs 24");
        assertRejected(craft("range.safetensors", "{" + entry("w", "F32", "[4]", 0, 16) + "}", 12),
                "run past the data section");
        assertRejected(craft("gap.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + ","
                + entry("b", "F32", "[1]", 8, 12) + "}", 12), "leave a gap");
        assertRejected(craft("overlap.safetensors", "{" + entry("a", "F32", "[2]", 0, 8) + ","
                + entry("b", "F32", "[1]", 4, 8) + "}", 8), "overlap");
        assertRejected(craft("tail.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "}", 9),
                "the tensors cover 4");
        assertRejected(craft("negative.safetensors", "{" + entry("a", "F32", "[-1]", 0, 0) + "}", 0),
                "invalid element -1");
        assertRejected(craft("dup.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + ","
                + entry("a", "F32", "[1]", 4, 8) + "}", 8), "Duplicate field 'a'");
        assertRejected(craft("meta.safetensors", "{\"__metadata__\":{\"k\":3}}", 0), "value of 'k' is not a string");
        assertRejected(craft("trailing.safetensors", "{} {}", 0), "not valid JSON");
    }

    @Test
    void rejectsATruncatedCopyOfAValidFile() throws IOException {
        Tensor a = host(DType.F64, 5, 7);
        Rand.normal(a, 9, 1.0);
        Path good = dir.resolve("good.safetensors");
        SafeTensors.write(good, Map.of("a", a), Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertRejected(cut, "run past the data section");
        Path headerCut = dir.resolve("headercut.safetensors");
        Files.write(headerCut, java.util.Arrays.copyOf(bytes, 20));
        assertRejected(headerCut, "does not fit the file size 20");
    }

    @Test
    void writeIntoAMissingFolderNamesTheFile() {
        Tensor a = host(DType.F32, 2);
        Path file = dir.resolve("nope").resolve("x.safetensors");
        var e = assertThrows(UncheckedIOException.class, () -> SafeTensors.write(file, Map.of("a", a), Map.of()));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("does not exist"),
                e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(dir.resolve("y.safetensors"), Map.of("__metadata__", a), Map.of()));
        assertTrue(bad.getMessage().contains("invalid tensor name"), bad.getMessage());
    }
}
