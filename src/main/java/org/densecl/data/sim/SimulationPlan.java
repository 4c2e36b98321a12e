package org.densecl.data.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What a simulation writes, as its manifest.json records it: seed, count, size, labeled and the effective
 * simulator config. Equal plans write the same files (image i is a function of the seed and i), so a folder
 * can be recognised as the one a command asks for, and an interrupted simulation finished by another run.
 */
public record SimulationPlan(long seed, int count, int size, boolean labeled, JsonNode effectiveConfig) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static SimulationPlan of(SimulatorConfig cfg, SimulationRun.Options o) {
        return new SimulationPlan(o.seed(), o.count(), o.size(), o.labeled(), JSON.valueToTree(cfg));
    }

    /** The plan in a manifest.json (or a staging folder's plan file); an error naming the file if unreadable. */
    public static SimulationPlan read(Path file) {
        return of(readJson(file), file);
    }

    /** The plan in the parsed manifest {@code m} of {@code file}. */
    static SimulationPlan of(JsonNode m, Path file) {
        if (m == null || !m.has("seed") || !m.has("count") || !m.has("size") || !m.has("labeled")) {
            throw new IllegalArgumentException(file + " is not a simulation manifest (seed, count, size or labeled"
                    + " missing); delete its folder to simulate again");
        }
        return new SimulationPlan(m.get("seed").asLong(), m.get("count").asInt(), m.get("size").asInt(),
                m.get("labeled").asBoolean(), m.get("effectiveConfig"));
    }

    /** A manifest or plan file, parsed; an error naming the file when it is not JSON. */
    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + " (" + e.getMessage().lines().findFirst().orElse("")
                    + "); delete its folder to simulate again", e);
        }
    }

    /** The first field in which {@code this} (what a folder holds) differs from {@code want}, or null. */
    public String difference(SimulationPlan want) {
        if (seed != want.seed) {
            return "seed " + seed + ", not " + want.seed;
        }
        if (count != want.count) {
            return "count " + count + ", not " + want.count;
        }
        if (size != want.size) {
            return "size " + size + ", not " + want.size;
        }
        if (labeled != want.labeled) {
            return labeled ? "labeled, not unlabeled" : "unlabeled, not labeled";
        }
        return effectiveConfig == null || !effectiveConfig.equals(want.effectiveConfig) ? "another simulator config" : null;
    }

    /** Writes the plan's fields into a manifest (or plan file) root. */
    void putInto(ObjectNode root) {
        root.put("seed", seed);
        root.put("count", count);
        root.put("size", size);
        root.put("labeled", labeled);
    }
}
