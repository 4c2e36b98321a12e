package org.densecl.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.augment.PretrainViews;
import org.densecl.data.io.ImageFolder;
import org.densecl.data.loader.PrefetchLoader;
import org.densecl.data.loader.PretrainBatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl data-bench}: throughput of the pretraining loader (decode + two augmented views
 * per image) on an image folder, as a training loop would consume it.
 */
@Command(name = "data-bench", mixinStandardHelpOptions = true,
        description = {"Measure the pretraining loader's throughput: images/s decoded and augmented into two views.",
                "Background workers fill batches as a training loop takes them (e.g. on ./densecl simulate output)."})
public final class DataBenchCommand implements Callable<Integer> {
    @Option(names = "--images", paramLabel = "DIR", required = true, description = "image folder (searched recursively)")
    Path images;

    @Option(names = "--batch", defaultValue = "32", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--workers", paramLabel = "T", defaultValue = "1", description = "loader threads (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--batches", defaultValue = "30", description = "batches to time after 3 warm-up batches (default ${DEFAULT-VALUE})")
    int batches;

    @Option(names = "--augment", paramLabel = "FILE", description = "augmentation config (default configs/augment.yaml)")
    Path augment;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override an augmentation config key")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() {
        AugmentConfig cfg = AugmentConfig.load(augment != null ? augment : Path.of(AugmentConfig.DEFAULT_PATH), overrides);
        ImageFolder folder = new ImageFolder(images);
        PretrainViews views = new PretrainViews(cfg.pretrain());
        var opts = new PrefetchLoader.Options(batch, 0, true, false, workers, Math.max(2, workers + 1));
        try (var loader = new PrefetchLoader<>(PretrainBatch.filler(folder::load, views, 0), folder.size(), opts)) {
            for (int i = 0; i < 3; i++) {
                loader.take(); // warm-up: JIT and the first decodes
            }
            long t0 = System.nanoTime();
            long n = 0;
            for (int i = 0; i < batches; i++) {
                n += loader.take().count();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            int size = cfg.pretrain().size();
            System.out.printf(Locale.ROOT, "data-bench: %d images in %.2f s = %.1f images/s (two %dx%dx%d views each, batch %d, %d workers, %d images in %s)%n",
                    n, s, n / s, size, size, cfg.pretrain().channels(), batch, workers, folder.size(), images);
        }
        return 0;
    }
}
