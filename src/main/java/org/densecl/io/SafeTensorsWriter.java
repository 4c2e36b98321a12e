package org.densecl.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.densecl.data.io.AtomicFiles;
import org.densecl.data.io.WriteHook;
import org.densecl.tensor.Tensor;

/**
 * Writes safetensors files for {@link SafeTensors#write}. Tensors are laid out by element size, largest
 * first (stable within a size), as the reference implementation does: with the header padded to a
 * multiple of 8 every tensor then starts on a multiple of its own element size, so readers that map the
 * file can view it without copying. The file appears atomically: temp file in the same folder, fsync,
 * rename. Besides tensors it writes I64 scalars (shape []), which no {@link org.densecl.tensor.DType}
 * holds: PyTorch's BN {@code num_batches_tracked} buffers.
 */
final class SafeTensorsWriter {
    /** Bytes handed to one channel write: a ByteBuffer view is limited to 2 GiB. */
    private static final long CHUNK = 1L << 26;

    private SafeTensorsWriter() {}

    /** One entry of the file: a tensor, or (tensor null) an I64 scalar. */
    private record Item(String name, Tensor tensor, long scalar) {
        int elementBytes() {
            return tensor == null ? 8 : tensor.dtype().bytes();
        }

        long byteSize() {
            return tensor == null ? 8 : tensor.byteSize();
        }
    }

    /**
     * Tensors plus I64 scalars ({@code int64Scalars}, written with shape []); names must not repeat. The bytes go
     * through {@code hook} ({@link WriteHook#NONE} but in a test that plays a failing disk).
     */
    static void write(Path file, Map<String, Tensor> tensors, Map<String, Long> int64Scalars,
                      Map<String, String> metadata, WriteHook hook) {
        List<Item> order = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            check(file, e.getKey(), e.getValue());
            order.add(new Item(e.getKey(), e.getValue(), 0));
        }
        for (Map.Entry<String, Long> e : int64Scalars.entrySet()) {
            if (tensors.containsKey(e.getKey())) {
                throw new IllegalArgumentException("cannot write " + file + ": '" + e.getKey()
                        + "' is both a tensor and an I64 scalar");
            }
            check(file, e.getKey(), null);
            order.add(new Item(e.getKey(), null, e.getValue()));
        }
        order.sort(Comparator.comparingInt((Item e) -> -e.elementBytes()));
        byte[] header = header(file, order, metadata);

        Path target = file.toAbsolutePath();
        Path tmp = tmpSibling(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                WritableByteChannel out = hook.wrap(ch);
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(out, len);
                writeFully(out, ByteBuffer.wrap(header));
                for (Item e : order) {
                    if (e.tensor() == null) {
                        writeFully(out, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(e.scalar()).flip());
                        continue;
                    }
                    MemorySegment seg = e.tensor().data(); // little-endian already (Tensor's layouts)
                    for (long at = 0; at < seg.byteSize(); at += CHUNK) {
                        writeFully(out, seg.asSlice(at, Math.min(CHUNK, seg.byteSize() - at)).asByteBuffer());
                    }
                }
                ch.force(true); // the data is on disk before the rename makes it visible
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original error is the one worth reporting
            }
            throw AtomicFiles.failure(file, e);
        }
    }

    private static void check(Path file, String name, Tensor t) {
        if (name == null || name.isEmpty() || name.equals(SafeTensors.METADATA_KEY)) {
            throw new IllegalArgumentException("cannot write " + file + ": invalid tensor name '" + name + "'");
        }
        if (t != null && !t.isHost()) {
            throw new IllegalArgumentException("cannot write " + file + ": tensor '" + name + "' " + t
                    + " is device memory; download it to a host tensor first");
        }
    }

    /** The JSON header, padded with spaces so that 8 + its length is a multiple of 8. */
    private static byte[] header(Path file, List<Item> order, Map<String, String> metadata) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafeTensors.METADATA_KEY);
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new IllegalArgumentException("cannot write " + file + ": null metadata key or value ("
                            + k + " = " + v + ")");
                }
                meta.put(k, v);
            });
        }
        long offset = 0;
        for (Item e : order) {
            Tensor t = e.tensor();
            ObjectNode node = root.putObject(e.name());
            node.put("dtype", t == null ? SafeDType.I64.headerName() : SafeDType.of(t.dtype()).headerName());
            var shape = node.putArray("shape");
            if (t != null) {
                for (int d : t.shape().dims()) {
                    shape.add(d);
                }
            }
            node.putArray("data_offsets").add(offset).add(offset + e.byteSize());
            offset += e.byteSize();
        }
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + file + ": header serialisation failed: " + e, e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    /** ".name.<random>.tmp" next to the target: same file system, so the rename can be atomic. */
    private static Path tmpSibling(Path target) {
        String base = "." + target.getFileName() + ".";
        Path dir = target.getParent();
        while (true) {
            Path p = dir.resolve(base + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
            if (!Files.exists(p)) {
                return p;
            }
        }
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
