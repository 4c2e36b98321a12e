package org.densecl.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.densecl.data.Progress;
import org.densecl.data.io.PngWriter;
import org.densecl.data.sim.KneeSimulator;
import org.densecl.data.sim.SimGrid;
import org.densecl.data.sim.SimulationRun;
import org.densecl.data.sim.SimulatorConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl simulate}: synthetic knee ultrasound (longitudinal suprapatellar view). Writes a
 * data set ({@code --output}), or a contact sheet of images and masks ({@code --grid}).
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = {"Simulate knee ultrasound (suprapatellar recess) as 8-bit gray PNGs.",
                "Unlabeled: DIR/sim_NNNNNN.png.",
                "--labeled: DIR/img_dir/{train,val,test} and DIR/ann_dir/{train,val,test}",
                "  (mmsegmentation layout; masks 0 background, 1 recess).",
                "Both write DIR/manifest.json (arguments, effective config, one entry per image).",
                "Image i is reproducible from (seed, i).",
                "--grid FILE writes a sheet of images beside their masks instead."})
public final class SimulateCommand implements Callable<Integer> {
    @Option(names = {"--output", "--out"}, paramLabel = "DIR", description = "output folder (--out: the former name)")
    Path out;

    @Option(names = "--count", paramLabel = "N", defaultValue = "100", description = "number of images (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--size", paramLabel = "PX", defaultValue = "256", description = "image height and width (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "run seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--labeled", description = "also write masks, in the mmsegmentation layout")
    boolean labeled;

    @Option(names = "--threads", paramLabel = "T", description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--config", paramLabel = "FILE", description = "simulator config (default configs/simulator.yaml)")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config key, e.g. --set recess.absentProbability=0")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--grid", paramLabel = "PNG", description = "write a sheet of images with masks instead of a data set")
    Path grid;

    @Option(names = "--grid-shape", paramLabel = "ROWSxCOLS", defaultValue = "3x4",
            description = "rows x image/mask pairs of the --grid sheet (default ${DEFAULT-VALUE})")
    String gridShape;

    @Override
    public Integer call() {
        Path cfgPath = config != null ? config : SimulatorConfig.locateDefault();
        SimulatorConfig cfg = SimulatorConfig.load(cfgPath, overrides);
        if (grid != null) {
            String[] rc = gridShape.toLowerCase(Locale.ROOT).split("x");
            if (rc.length != 2) {
                throw new IllegalArgumentException("--grid-shape must be ROWSxCOLS, got " + gridShape);
            }
            SimGrid.Sheet sheet = SimGrid.render(new KneeSimulator(cfg), seed, Integer.parseInt(rc[0].trim()),
                    Integer.parseInt(rc[1].trim()), size);
            new PngWriter(0f).writeRgb(grid, sheet.rgb(), sheet.height(), sheet.width());
            System.err.println("simulate: wrote " + grid + " (" + sheet.width() + "x" + sheet.height() + ")");
            return 0;
        }
        if (out == null) {
            throw new IllegalArgumentException("simulate: give --output DIR (or --grid FILE)");
        }
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        var opts = new SimulationRun.Options(out, count, size, seed, labeled, t);
        System.err.println("simulate: config " + cfgPath + (overrides.isEmpty() ? "" : " with " + overrides)
                + "; the effective config goes to " + out.resolve("manifest.json"));
        Progress progress = new Progress(System.err, "simulate", count);
        double s = SimulationRun.run(cfg, cfgPath.toString(), opts, progress);
        if (s == 0) { // the folder was this simulation already; SimulationRun said so
            return 0;
        }
        System.err.printf(Locale.ROOT, "simulate: %d images %dx%d in %.2f s on %d threads: %.0f images/min -> %s%n",
                count, size, size, s, t, count / s * 60, out);
        return 0;
    }
}
