package org.densecl.data.sim;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.densecl.data.Progress;
import org.densecl.data.io.ImageFolder;

/**
 * A data folder checked against the simulation that wrote it. A finished simulation has a manifest.json listing
 * every image; a folder whose images disagree with it was changed or damaged afterwards, and a folder of
 * sim_NNNNNN.png files without one is a simulation killed before it finished (versions that simulated in place
 * left such folders). Both are errors saying so, instead of a run that trains on whatever is there.
 */
public final class SimulatedFolder {
    private static final Pattern SIMULATED_NAME = Pattern.compile("sim_\\d+\\.png");

    private SimulatedFolder() {}

    /**
     * The data folder of a command that simulates on first use ({@code o.out()}): simulated when it does not
     * exist (an interrupted simulation of it is continued), verified when it does.
     */
    public static void ensure(SimulatorConfig cfg, String configSource, List<String> overrides, SimulationRun.Options o,
                              Progress progress, String command) {
        Path root = o.out();
        if (Files.exists(root)) {
            verify(root);
            return;
        }
        progress.note(command + ": " + root + " does not exist: simulating " + o.count() + (o.labeled() ? " labeled" : "")
                + " images of " + o.size() + "x" + o.size() + " there (" + configSource
                + (overrides.isEmpty() ? "" : " with " + overrides) + ", seed " + o.seed() + ")");
        SimulationRun.run(cfg, configSource, o, progress);
    }

    /**
     * Checks an existing folder: with a manifest.json, every image (and mask) it lists exists and no other image
     * is there; without one, no simulated image may be there. A folder of other images is not checked.
     */
    public static void verify(Path root) {
        Path manifest = root.resolve("manifest.json");
        if (!Files.isRegularFile(manifest)) {
            Optional<Path> simulated = firstSimulatedImage(root);
            if (simulated.isPresent()) {
                throw new IllegalArgumentException(root + " holds simulated images (" + root.relativize(simulated.get())
                        + " ...) but no manifest.json: a simulation killed before it finished; delete " + root
                        + " and run again to simulate it anew");
            }
            return;
        }
        JsonNode m = SimulationPlan.readJson(manifest);
        SimulationPlan plan = SimulationPlan.of(m, manifest);
        JsonNode images = m.get("images");
        String redo = "; the folder changed after it was simulated: delete " + root + " to simulate it again";
        if (images == null || images.size() != plan.count()) {
            throw new IllegalArgumentException(manifest + " says count " + plan.count() + " but lists "
                    + (images == null ? 0 : images.size()) + " images" + redo);
        }
        for (JsonNode e : images) {
            for (String key : plan.labeled() ? List.of("image", "mask") : List.of("image")) {
                Path f = root.resolve(e.path(key).asText());
                if (!e.hasNonNull(key) || !Files.isRegularFile(f)) {
                    throw new IllegalArgumentException(root + ": " + e.path(key).asText("(no " + key + ")")
                            + ", listed in manifest.json, is missing" + redo);
                }
            }
        }
        int onDisk = countImages(plan.labeled() ? root.resolve("img_dir") : root);
        if (onDisk != plan.count()) {
            throw new IllegalArgumentException(root + " has " + onDisk + " images but its manifest.json lists "
                    + plan.count() + redo);
        }
    }

    /**
     * For {@link SimulationRun}: true when {@code out} is already the finished simulation of {@code plan}, false
     * when it is absent or an empty folder (to be filled); an error naming what it holds otherwise.
     */
    static boolean finished(Path out, SimulationPlan plan) {
        if (!Files.exists(out)) {
            return false;
        }
        if (!Files.isDirectory(out)) {
            throw new IllegalArgumentException(out + " is a file, not a folder; choose another output folder");
        }
        Path manifest = out.resolve("manifest.json");
        if (Files.isRegularFile(manifest)) {
            String differs = SimulationPlan.read(manifest).difference(plan);
            if (differs != null) {
                throw new IllegalArgumentException(out + " holds another simulation (" + differs + "); delete it or"
                        + " choose another output folder");
            }
            verify(out);
            return true;
        }
        verify(out);
        try (Stream<Path> s = Files.list(out)) {
            if (s.findAny().isEmpty()) {
                return false;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + out + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(out + " exists and is not a simulation (no manifest.json); delete it or"
                + " choose another output folder");
    }

    private static int countImages(Path dir) {
        try {
            return new ImageFolder(dir).size();
        } catch (IllegalArgumentException none) { // no images, or no such folder
            return 0;
        }
    }

    private static Optional<Path> firstSimulatedImage(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> SIMULATED_NAME.matcher(p.getFileName().toString()).matches()).min(Path::compareTo);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }
}
