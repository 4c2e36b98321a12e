package org.densecl.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.tensor.Shape;

/**
 * Parses and validates a safetensors JSON header for {@link SafeTensors#open}. Everything a later read
 * relies on is checked here once: known dtypes, non-negative integer shapes and offsets, byte counts equal
 * to numel * element size, and entries that tile the data section exactly. Every failure is a one-line
 * {@link SafeTensorsException} that starts with the file name.
 */
final class SafeTensorsHeader {
    private SafeTensorsHeader() {}

    static Map<String, SafeTensorEntry> parse(Path file, byte[] header, long dataBytes,
                                             Map<String, String> metadata) {
        JsonNode root;
        try {
            ObjectMapper mapper = new ObjectMapper();
            mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // a name twice is corrupt
            mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
            root = mapper.readTree(new String(header, StandardCharsets.UTF_8).stripTrailing());
        } catch (JsonProcessingException e) {
            throw corrupt(file, "the header is not valid JSON: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (root == null || !root.isObject()) {
            throw corrupt(file, "the header is not a JSON object");
        }
        Map<String, SafeTensorEntry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(SafeTensors.METADATA_KEY)) {
                parseMetadata(file, node, metadata);
            } else {
                entries.put(name, parseEntry(file, name, node));
            }
        }
        checkTiling(file, entries, dataBytes);
        return Collections.unmodifiableMap(entries);
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> metadata) {
        if (!node.isObject()) {
            throw corrupt(file, SafeTensors.METADATA_KEY + " is not a JSON object");
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw corrupt(file, SafeTensors.METADATA_KEY + " value of '" + m.getKey() + "' is not a string");
            }
            metadata.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static SafeTensorEntry parseEntry(Path file, String name, JsonNode node) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw corrupt(file, where + " is not a JSON object");
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw corrupt(file, where + " has no dtype string");
        }
        SafeDType dtype = SafeDType.fromHeader(dt.textValue());
        if (dtype == null) {
            throw corrupt(file, where + " has unknown or unsupported dtype '" + dt.textValue() + "'");
        }
        long[] dims = longs(file, where, node.get("shape"), "shape", -1);
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE) {
                throw corrupt(file, where + " has dimension " + dims[i] + ", larger than we support");
            }
            shape[i] = (int) dims[i];
        }
        long[] offsets = longs(file, where, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0], end = offsets[1];
        Shape s = Shape.of(shape);
        long want;
        try {
            want = Math.multiplyExact(s.numel(), (long) dtype.bytes());
        } catch (ArithmeticException overflow) {
            throw corrupt(file, where + " shape " + s + " overflows a byte count");
        }
        if (end < begin || end - begin != want) {
            throw corrupt(file, where + " data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but " + dtype + " " + s + " needs " + want);
        }
        return new SafeTensorEntry(name, dtype, s, begin, end);
    }

    /** A JSON array of non-negative integers; {@code length} -1 means any length. */
    private static long[] longs(Path file, String where, JsonNode node, String key, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw corrupt(file, where + " has no valid " + key + " array");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw corrupt(file, where + " " + key + " has an invalid element " + v);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** Entries sorted by offset must cover [0, dataBytes) exactly: no gap, no overlap, nothing past the end. */
    private static void checkTiling(Path file, Map<String, SafeTensorEntry> entries, long dataBytes) {
        List<SafeTensorEntry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(SafeTensorEntry::begin).thenComparingLong(SafeTensorEntry::end));
        long at = 0;
        for (SafeTensorEntry e : sorted) {
            if (e.begin() != at) {
                throw corrupt(file, "tensor '" + e.name() + "' data_offsets [" + e.begin() + ", " + e.end() + "] "
                        + (e.begin() < at ? "overlap the previous tensor" : "leave a gap after byte " + at));
            }
            if (e.end() > dataBytes) {
                throw corrupt(file, "tensor '" + e.name() + "' data_offsets [" + e.begin() + ", " + e.end()
                        + "] run past the data section (" + dataBytes + " bytes; truncated?)");
            }
            at = e.end();
        }
        if (at != dataBytes) {
            throw corrupt(file, "the data section has " + dataBytes + " bytes but the tensors cover " + at);
        }
    }

    static SafeTensorsException corrupt(Path file, String why) {
        return new SafeTensorsException(file + ": corrupt safetensors file: " + why);
    }
}
