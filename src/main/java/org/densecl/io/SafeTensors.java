package org.densecl.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.data.io.WriteHook;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
 * raw little-endian data, offsets relative to its start. Checkpoints and PyTorch parity fixtures use it;
 * tensors are stored in PyTorch's layouts (NCHW, OIHW), so permuting to NHWC/KRSC is the caller's job.
 *
 * <p>{@link #open} maps the file and validates the whole header at once, so every later access is in
 * range: each entry's byte count must equal numel * element size, and the entries must tile the data
 * section exactly (no gap, no overlap, nothing after the last), as the reference implementation demands.
 * A file that breaks a rule is rejected with a one-line {@link SafeTensorsException} naming the file.
 * Close the reader to unmap it. Writing is {@link #write}, atomic (temp file + rename).
 */
public final class SafeTensors implements AutoCloseable {
    /** The reference implementation refuses headers above 100 MB; so do we (a sane bound on a JSON parse). */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    private static final ValueLayout.OfLong LE_I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final MemorySegment data; // the data section, after the 8 + N header bytes
    private final Map<String, SafeTensorEntry> entries; // header order
    private final Map<String, String> metadata;

    private SafeTensors(Path file, Arena arena, MemorySegment data, Map<String, SafeTensorEntry> entries,
                        Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Maps and validates {@code file}. Throws {@link SafeTensorsException} for a file breaking the format. */
    public static SafeTensors open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw SafeTensorsHeader.corrupt(file, "the file has " + size + " bytes, fewer than the 8-byte header length");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long n = all.get(LE_I64, 0);
            if (n < 2 || n > size - 8 || n > MAX_HEADER_BYTES) {
                throw SafeTensorsHeader.corrupt(file, "header length " + Long.toUnsignedString(n) + " does not fit the file size "
                        + size + " (truncated, or not a safetensors file)");
            }
            byte[] header = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = all.asSlice(8 + n);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, SafeTensorEntry> entries = SafeTensorsHeader.parse(file, header, data.byteSize(), metadata);
            return new SafeTensors(file, arena, data, entries, Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Writes {@code tensors} (host tensors: F32, F64 or I32, in PyTorch's layout) and {@code metadata} to
     * {@code file} atomically: the bytes go to a temp file in the same folder, are forced to disk, then
     * renamed over {@code file}, so a crash never leaves a half-written checkpoint.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        SafeTensorsWriter.write(file, tensors, Map.of(), metadata, WriteHook.NONE);
    }

    public Path file() {
        return file;
    }

    /** Tensor names in header order. */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The header entry for {@code name}; throws naming the file when there is none. */
    public SafeTensorEntry entry(String name) {
        SafeTensorEntry e = entries.get(name);
        if (e == null) {
            throw new SafeTensorsException(file + ": no tensor named '" + name + "' (it has " + entries.size()
                    + " tensors" + (entries.isEmpty() ? "" : ", e.g. '" + entries.keySet().iterator().next() + "'") + ")");
        }
        return e;
    }

    public SafeDType dtype(String name) {
        return entry(name).dtype();
    }

    public Shape shape(String name) {
        return entry(name).shape();
    }

    /** The "__metadata__" map (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** A metadata value; throws naming the file and key when absent. */
    public String metadata(String key) {
        String v = metadata.get(key);
        if (v == null) {
            throw new SafeTensorsException(file + ": no metadata key '" + key + "' (keys: " + metadata.keySet() + ")");
        }
        return v;
    }

    /** A floating-point tensor's elements as doubles (exact for every float type). */
    public double[] doubles(String name) {
        SafeTensorEntry e = floatingEntry(name, "doubles");
        MemorySegment seg = segment(e);
        double[] out = new double[arrayLength(e)];
        for (int i = 0; i < out.length; i++) {
            out[i] = readFloating(seg, e.dtype(), i);
        }
        return out;
    }

    /** A floating-point tensor's elements as floats (F64 rounded to nearest). */
    public float[] floats(String name) {
        SafeTensorEntry e = floatingEntry(name, "floats");
        MemorySegment seg = segment(e);
        float[] out = new float[arrayLength(e)];
        if (e.dtype() == SafeDType.F32) {
            MemorySegment.copy(seg, LE_F32, 0, out, 0, out.length);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) readFloating(seg, e.dtype(), i);
        }
        return out;
    }

    /** An integer tensor's elements as ints; an I64 value outside the int range throws. */
    public int[] ints(String name) {
        SafeTensorEntry e = entry(name);
        if (e.dtype().isFloating()) {
            throw new SafeTensorsException(file + ": tensor '" + name + "' is " + e.dtype()
                    + "; ints() needs an integer type (I64, I32, I16, I8, U8, BOOL)");
        }
        MemorySegment seg = segment(e);
        int[] out = new int[arrayLength(e)];
        for (int i = 0; i < out.length; i++) {
            long v = readIntegral(seg, e.dtype(), i);
            if (v != (int) v) {
                throw new SafeTensorsException(file + ": tensor '" + name + "' element " + i + " is " + v
                        + ", outside the int range");
            }
            out[i] = (int) v;
        }
        return out;
    }

    /**
     * Copies tensor {@code name} into the host tensor {@code dst}, converting the element type: a float
     * type into an F32 or F64 tensor, an integer type into an I32 tensor. Shapes must be equal.
     */
    public void copyTo(String name, Tensor dst) {
        SafeTensorEntry e = entry(name);
        if (!dst.isHost()) {
            throw new IllegalArgumentException("SafeTensors.copyTo: " + dst + " is not host memory; copy into a"
                    + " host tensor and upload it");
        }
        if (!e.shape().equals(dst.shape())) {
            throw new SafeTensorsException(file + ": tensor '" + name + "' has shape " + e.shape()
                    + " but the destination is " + dst.shape());
        }
        boolean intDst = dst.dtype() == DType.I32;
        if (intDst == e.dtype().isFloating()) {
            throw new SafeTensorsException(file + ": tensor '" + name + "' is " + e.dtype()
                    + " and cannot be copied into a " + dst.dtype() + " tensor");
        }
        MemorySegment seg = segment(e);
        if (SafeDType.of(dst.dtype()) == e.dtype()) { // same little-endian bytes: a plain copy
            MemorySegment.copy(seg, 0, dst.data(), 0, e.byteSize());
            return;
        }
        for (long i = 0; i < e.numel(); i++) {
            if (intDst) {
                long v = readIntegral(seg, e.dtype(), i);
                if (v != (int) v) {
                    throw new SafeTensorsException(file + ": tensor '" + name + "' element " + i + " is " + v
                            + ", outside the int range");
                }
                dst.setInt(i, (int) v);
            } else {
                dst.set(i, readFloating(seg, e.dtype(), i));
            }
        }
    }

    /** Unmaps the file; arrays already returned stay valid. */
    @Override
    public void close() {
        arena.close();
    }

    // ------------------------------------------------------------------ element access

    private MemorySegment segment(SafeTensorEntry e) {
        return data.asSlice(e.begin(), e.byteSize());
    }

    private SafeTensorEntry floatingEntry(String name, String method) {
        SafeTensorEntry e = entry(name);
        if (!e.dtype().isFloating()) {
            throw new SafeTensorsException(file + ": tensor '" + name + "' is " + e.dtype() + "; " + method
                    + "() needs a floating-point type (F64, F32, F16, BF16)");
        }
        return e;
    }

    private int arrayLength(SafeTensorEntry e) {
        if (e.numel() > Integer.MAX_VALUE - 8) {
            throw new SafeTensorsException(file + ": tensor '" + e.name() + "' has " + e.numel()
                    + " elements, too many for a Java array; use copyTo");
        }
        return (int) e.numel();
    }

    private static double readFloating(MemorySegment seg, SafeDType t, long i) {
        return switch (t) {
            case F64 -> seg.getAtIndex(LE_F64, i);
            case F32 -> seg.getAtIndex(LE_F32, i);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(LE_I16, i));
            // bfloat16 is the upper half of a float32
            case BF16 -> Float.intBitsToFloat((seg.getAtIndex(LE_I16, i) & 0xFFFF) << 16);
            default -> throw new IllegalStateException("not a float type: " + t);
        };
    }

    private static long readIntegral(MemorySegment seg, SafeDType t, long i) {
        return switch (t) {
            case I64 -> seg.getAtIndex(LE_I64, i);
            case I32 -> seg.getAtIndex(LE_I32, i);
            case I16 -> seg.getAtIndex(LE_I16, i);
            case I8 -> seg.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> seg.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            default -> throw new IllegalStateException("not an integer type: " + t);
        };
    }

    @Override
    public String toString() {
        return "SafeTensors(" + file + ", " + entries.size() + " tensors)";
    }
}
