package org.densecl.data.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.densecl.data.Progress;
import org.densecl.data.io.AtomicFiles;

/**
 * Where a simulation writes until it is complete: OUT.partial beside OUT, renamed to OUT at the end, so a
 * folder named OUT is always a finished simulation. It holds .plan.json (what is being simulated) and
 * .journal.jsonl (the manifest entry of every image whose files are written, appended as each completes).
 * A run killed part-way is continued by the next run with the same plan: journaled images whose files
 * exist are kept (each file was written atomically), the rest are simulated. Hidden names, so image
 * folder readers never see them.
 */
final class SimulationStaging implements AutoCloseable {
    private static final String PLAN = ".plan.json", JOURNAL = ".journal.jsonl";

    private final Path out;
    private final Path dir;
    private final ObjectNode[] done;
    private final BufferedWriter journal;
    private final ObjectMapper json;

    private SimulationStaging(Path out, Path dir, ObjectNode[] done, ObjectMapper json) throws IOException {
        this.out = out;
        this.dir = dir;
        this.done = done;
        this.json = json;
        this.journal = Files.newBufferedWriter(dir.resolve(JOURNAL), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /**
     * The staging folder of {@code out} for {@code plan}: continued when an interrupted run of the same plan left
     * it (said on {@code log}), started afresh otherwise.
     */
    static SimulationStaging open(Path out, SimulationPlan plan, ObjectMapper json, Progress log) {
        Path dir = out.resolveSibling(out.getFileName() + ".partial");
        try {
            ObjectNode[] done = new ObjectNode[plan.count()];
            Path planFile = dir.resolve(PLAN);
            if (Files.isRegularFile(planFile) && readable(planFile) && SimulationPlan.read(planFile).difference(plan) == null) {
                int kept = readJournal(dir, plan, json, done);
                log.note("simulate: continuing the interrupted simulation in " + dir + ": " + kept + " of "
                        + plan.count() + " images there already");
            } else {
                if (Files.exists(dir)) {
                    log.note("simulate: " + dir + " holds an interrupted simulation of other settings; starting over");
                }
                deleteTree(dir);
                Files.createDirectories(dir);
                ObjectNode p = json.createObjectNode();
                plan.putInto(p);
                p.set("effectiveConfig", plan.effectiveConfig());
                AtomicFiles.write(planFile, o -> o.write(json.writeValueAsBytes(p)));
            }
            return new SimulationStaging(out, dir, done, json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The folder the images go to. */
    Path dir() {
        return dir;
    }

    /** The manifest entry of image i when a previous run finished it, else null. */
    ObjectNode done(int i) {
        return done[i];
    }

    /** Notes that image {@code entry.index}'s files are written; flushed, so a kill right after keeps it. */
    synchronized void record(ObjectNode entry) throws IOException {
        journal.write(json.writeValueAsString(entry));
        journal.newLine();
        journal.flush();
    }

    /** Renames the folder (its manifest written) to OUT and drops the bookkeeping files. */
    void complete() {
        try {
            journal.close();
            if (Files.isDirectory(out)) { // an empty folder given as --output (checked by SimulatedFolder)
                Files.delete(out);
            }
            Files.move(dir, out, StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(out.resolve(JOURNAL));
            Files.deleteIfExists(out.resolve(PLAN));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the finished simulation " + dir + " to " + out + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        journal.close();
    }

    /** Fills {@code done} from the journal; entries whose files are gone, and a torn last line, are redone. */
    private static int readJournal(Path dir, SimulationPlan plan, ObjectMapper json, ObjectNode[] done) throws IOException {
        Path file = dir.resolve(JOURNAL);
        List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        StringBuilder kept = new StringBuilder();
        int n = 0;
        for (String line : lines) {
            JsonNode e;
            try {
                e = json.readTree(line);
            } catch (IOException torn) {
                continue;
            }
            int i = e instanceof ObjectNode && e.has("index") ? e.get("index").asInt(-1) : -1;
            if (i < 0 || i >= plan.count() || done[i] != null || !filesExist(dir, e)) {
                continue;
            }
            done[i] = (ObjectNode) e;
            kept.append(line).append('\n');
            n++;
        }
        byte[] bytes = kept.toString().getBytes(StandardCharsets.UTF_8); // the next appends start on a fresh line
        AtomicFiles.write(file, o -> o.write(bytes));
        deleteTemporaries(dir);
        return n;
    }

    private static boolean filesExist(Path dir, JsonNode e) {
        return e.hasNonNull("image") && Files.isRegularFile(dir.resolve(e.get("image").asText()))
                && (!e.has("mask") || Files.isRegularFile(dir.resolve(e.get("mask").asText())));
    }

    private static boolean readable(Path planFile) {
        try {
            SimulationPlan.read(planFile);
            return true;
        } catch (IllegalArgumentException e) { // written atomically, so only damaged by hand: start over
            return false;
        }
    }

    /** The temporaries of PNG writes a kill interrupted, in every sub-folder. */
    private static void deleteTemporaries(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path d : s.filter(Files::isDirectory).toList()) {
                AtomicFiles.deleteStaleTemporaries(d);
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
