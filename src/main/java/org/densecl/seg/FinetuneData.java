package org.densecl.seg;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.densecl.data.Progress;
import org.densecl.data.io.MaskMapping;
import org.densecl.data.io.SegDataset;
import org.densecl.data.sim.SimulationRun;
import org.densecl.data.sim.SimulatorConfig;

/**
 * The labeled folder of a fine-tuning run (mmseg layout, masks 0..K-1, 255 ignored). When data.root does
 * not exist it is simulated there first ({@code ./densecl simulate --labeled} with data.simulate* and the
 * simulator config under data.simulateOverrides, so a config can ask for a shifted acquisition), into a
 * sibling folder renamed into place at the end: an interrupted simulation never passes for a data set.
 */
public final class FinetuneData {
    private FinetuneData() {}

    /** data.root, simulated first if absent. */
    public static Path ensure(FinetuneConfig.Data d, PrintStream log) {
        Path root = Path.of(d.root());
        if (Files.exists(root)) {
            return root;
        }
        Path partial = root.resolveSibling(root.getFileName() + ".partial");
        log.println("finetune: " + root + " does not exist: simulating " + d.simulateCount() + " labeled images of "
                + d.simulateSize() + "x" + d.simulateSize() + " there (configs/simulator.yaml"
                + (d.simulateOverrides().isEmpty() ? "" : " with " + d.simulateOverrides()) + ", seed "
                + d.simulateSeed() + ")");
        Path simCfg = SimulatorConfig.locateDefault();
        int threads = Runtime.getRuntime().availableProcessors();
        try {
            deleteTree(partial);
            SimulationRun.run(SimulatorConfig.load(simCfg, d.simulateOverrides()), simCfg.toString(),
                    new SimulationRun.Options(partial, d.simulateCount(), d.simulateSize(), d.simulateSeed(), true, threads),
                    new Progress(log, "simulate", d.simulateCount()));
            Files.move(partial, root, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot simulate into " + root + ": " + e.getMessage(), e);
        }
        return root;
    }

    /** One split of the folder, classes 0..numClasses-1 and 255 ignored. */
    public static SegDataset split(Path root, String split, int numClasses) {
        try {
            return SegDataset.mmseg(root, split, MaskMapping.classes(numClasses));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("data split '" + split + "' of " + root + ": " + e.getMessage()
                    + " (a simulated set needs enough images for every split: raise data.simulateCount)", e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
