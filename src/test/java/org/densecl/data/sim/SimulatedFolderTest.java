package org.densecl.data.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.densecl.cli.PretrainCommand;
import org.densecl.data.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a simulated folder must be before anything trains on it: one whose images disagree with its manifest, or
 * simulated images without a manifest (a simulation killed before it finished, as older versions left them), is
 * refused with a line naming the folder and the file, before a run writes any output; a finished simulation is
 * kept as it is; another simulation in the folder is refused. A staging folder with a torn journal line and a
 * journaled image gone is finished to the same bytes as an uninterrupted simulation.
 */
class SimulatedFolderTest {
    private static final SimulatorConfig CFG = SimulatorConfig.load(Path.of(SimulatorConfig.DEFAULT_PATH), List.of());

    @TempDir
    Path dir;

    @Test
    void imagesThatDisagreeWithTheManifestAreRefused() throws IOException {
        Path root = dir.resolve("pool");
        simulate(root, 6, false);
        SimulatedFolder.verify(root);
        Files.copy(root.resolve("sim_000002.png"), root.resolve("sim_000099.png"));
        IllegalArgumentException extra = assertThrows(IllegalArgumentException.class, () -> SimulatedFolder.verify(root));
        assertTrue(extra.getMessage().contains(root + " has 7 images but its manifest.json lists 6"), extra.getMessage());
        Files.delete(root.resolve("sim_000099.png"));
        Files.delete(root.resolve("sim_000004.png"));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> SimulatedFolder.verify(root));
        assertTrue(missing.getMessage().contains("sim_000004.png, listed in manifest.json, is missing")
                && missing.getMessage().contains("delete " + root), missing.getMessage());
    }

    @Test
    void simulatedImagesWithoutAManifestAreAnInterruptedSimulation() throws IOException {
        Path root = dir.resolve("pool");
        simulate(root, 6, false);
        Files.delete(root.resolve("manifest.json"));
        Path out = dir.resolve("run");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PretrainCommand.pretrain(
                Path.of("configs/densecl_quick.yaml"), List.of("data.root=" + root), out, true, null));
        assertTrue(e.getMessage().contains(root + " holds simulated images (sim_000000.png ...) but no manifest.json")
                && !e.getMessage().contains("\n"), e.getMessage());
        assertFalse(Files.exists(out), "pretrain wrote output before it found the data unusable");
    }

    @Test
    void aFinishedSimulationIsKeptAndAnotherIsRefused() throws IOException {
        Path root = dir.resolve("set");
        simulate(root, 6, true);
        FileTime before = Files.getLastModifiedTime(root.resolve("manifest.json"));
        assertEquals(0, simulate(root, 6, true), "the same simulation again must find it done");
        assertEquals(before, Files.getLastModifiedTime(root.resolve("manifest.json")), "a finished simulation was redone");
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> simulate(root, 7, true));
        assertTrue(other.getMessage().contains("holds another simulation (count 6, not 7)"), other.getMessage());
        Files.createDirectories(dir.resolve("notes"));
        Files.writeString(dir.resolve("notes/todo.txt"), "mine");
        IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class,
                () -> simulate(dir.resolve("notes"), 6, true));
        assertTrue(foreign.getMessage().contains("is not a simulation"), foreign.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("notes/todo.txt")));
    }

    @Test
    void aStagingFolderWithATornJournalIsFinishedToTheSameBytes() throws IOException {
        Path ref = dir.resolve("ref"), out = dir.resolve("out");
        simulate(ref, 9, true);
        // What a kill leaves: the images, a plan, a journal whose last line is torn, one journaled image gone.
        Path staging = dir.resolve("out.partial");
        copyTree(ref, staging);
        ObjectMapper json = new ObjectMapper();
        JsonNode manifest = json.readTree(staging.resolve("manifest.json").toFile());
        Files.delete(staging.resolve("manifest.json"));
        ObjectNode plan = json.createObjectNode();
        SimulationPlan.read(ref.resolve("manifest.json")).putInto(plan);
        plan.set("effectiveConfig", manifest.get("effectiveConfig"));
        Files.write(staging.resolve(".plan.json"), json.writeValueAsBytes(plan));
        List<String> journal = new ArrayList<>();
        for (JsonNode e : manifest.get("images")) {
            journal.add(json.writeValueAsString(e));
        }
        Files.delete(staging.resolve(manifest.get("images").get(3).get("image").asText()));
        String last = journal.removeLast();
        Files.writeString(staging.resolve(".journal.jsonl"), String.join("\n", journal) + "\n"
                + last.substring(0, last.length() / 2));

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SimulationRun.run(CFG, SimulatorConfig.DEFAULT_PATH, new SimulationRun.Options(out, 9, 32, 4, true, 2),
                new Progress(new PrintStream(log), "simulate", 9, false));
        assertTrue(log.toString().contains("continuing the interrupted simulation in " + staging + ": 7 of 9 images"),
                log.toString());
        assertFalse(Files.exists(staging));
        List<Path> files = files(ref);
        assertEquals(files, files(out), "the continued simulation holds other files");
        for (Path f : files) {
            if (!f.toString().equals("manifest.json")) {
                assertArrayEquals(Files.readAllBytes(ref.resolve(f)), Files.readAllBytes(out.resolve(f)), f.toString());
            }
        }
        assertEquals(manifest.get("images"), json.readTree(out.resolve("manifest.json").toFile()).get("images"));
    }

    private static double simulate(Path out, int count, boolean labeled) {
        return SimulationRun.run(CFG, SimulatorConfig.DEFAULT_PATH, new SimulationRun.Options(out, count, 32, 4, labeled, 2),
                new Progress(new PrintStream(new ByteArrayOutputStream()), "simulate", count, false));
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        for (Path f : files(from)) {
            Files.createDirectories(to.resolve(f).getParent());
            Files.copy(from.resolve(f), to.resolve(f));
        }
    }
}
