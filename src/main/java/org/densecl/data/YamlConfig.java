package org.densecl.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads a YAML config file onto a record tree, strictly: an unknown key, a missing key or a value of
 * the wrong type is an {@link IllegalArgumentException} that names the file and the dotted key, so a
 * typo never silently falls back to a default. Defaults live in the committed YAML, not in code.
 * Overrides {@code section.key=value} (value in YAML syntax) may replace existing keys only.
 */
public final class YamlConfig {
    private static final ObjectMapper COMPACT_JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private YamlConfig() {}

    /** The mapper used for config trees (also to print the effective config). */
    /**
     * A config record or value as compact JSON (records in component order, so the same config gives the same
     * string): checkpoint metadata, resume checks, and --set values that must stay one YAML value.
     */
    public static String json(Object value) {
        try {
            return COMPACT_JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON: "
                    + e.getMessage(), e);
        }
    }

    public static ObjectMapper mapper() {
        return YAML;
    }

    public static <T> T read(Path file, Class<T> type) {
        return read(file, type, List.of());
    }

    /** {@link #read}, with every error message naming the file: a record's own checks do not know it. */
    public static <T> T readNamed(Path file, Class<T> type, List<String> overrides) {
        try {
            return read(file, type, overrides);
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().contains(file.toString()) ? e
                    : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static <T> T read(Path file, Class<T> type, List<String> overrides) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("config file not found: " + file);
        }
        JsonNode tree;
        try {
            tree = YAML.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
        }
        if (!(tree instanceof ObjectNode root)) {
            throw new IllegalArgumentException(file + ": expected a mapping of sections at the top level");
        }
        for (String o : overrides) {
            applyOverride(root, o, file);
        }
        return convert(root, type, file.toString());
    }

    /** Maps an in-memory tree (for example one built by a test) onto {@code type}, strictly. */
    public static <T> T convert(JsonNode tree, Class<T> type, String source) {
        try {
            return YAML.treeToValue(tree, type);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().collect(Collectors.joining(", ", " (known keys: ", ")"));
            throw new IllegalArgumentException(source + ": unknown key '" + dotted(e, true) + "'" + known);
        } catch (JsonMappingException e) {
            String original = String.valueOf(e.getOriginalMessage());
            int q = original.indexOf('\'');
            if (original.startsWith("Missing creator property") && q >= 0) {
                String key = original.substring(q + 1, original.indexOf('\'', q + 1));
                String at = dotted(e, false);
                String full = at.endsWith(key) ? at : (at.equals("<top>") ? key : at + "." + key);
                throw new IllegalArgumentException(source + ": missing key '" + full + "'");
            }
            Throwable cause = e.getCause() instanceof IllegalArgumentException iae ? iae : null;
            String why = cause != null ? cause.getMessage() : e.getOriginalMessage();
            throw new IllegalArgumentException(source + ": bad config at '" + dotted(e, false) + "': " + why);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": " + e.getOriginalMessage());
        }
    }

    /** Replaces the value at {@code a.b.c} with the YAML value after '='. The key must exist. */
    static void applyOverride(ObjectNode root, String override, Path file) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("override must be key=value, got '" + override + "'");
        }
        String key = override.substring(0, eq).trim();
        String[] parts = key.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (!(child instanceof ObjectNode obj)) {
                throw new IllegalArgumentException("override '" + key + "': no section '" + parts[i] + "' in " + file);
            }
            node = obj;
        }
        String leaf = parts[parts.length - 1];
        if (!node.has(leaf)) {
            throw new IllegalArgumentException("override '" + key + "': unknown key '" + leaf + "' in " + file);
        }
        try {
            node.set(leaf, YAML.readTree(override.substring(eq + 1)));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("override '" + key + "': value is not valid YAML: " + e.getOriginalMessage());
        }
    }

    private static String dotted(JsonMappingException e, boolean includeLeaf) {
        StringBuilder sb = new StringBuilder();
        var path = e.getPath();
        int n = path.size();
        for (int i = 0; i < n; i++) {
            var ref = path.get(i);
            String part = ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]";
            if (i == n - 1 && !includeLeaf && ref.getFieldName() == null) {
                break;
            }
            if (sb.length() > 0 && ref.getFieldName() != null) {
                sb.append('.');
            }
            sb.append(part);
        }
        return sb.length() == 0 ? "<top>" : sb.toString();
    }
}
