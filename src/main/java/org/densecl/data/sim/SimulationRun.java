package org.densecl.data.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.densecl.data.Progress;
import org.densecl.data.io.AtomicFiles;
import org.densecl.data.io.PngWriter;

/**
 * Writes a simulated data set: {@code count} images on {@code threads} workers, each worker with its
 * own simulator and PNG writer, taking the next index from a shared counter. Unlabeled runs write
 * {@code OUT/sim_NNNNNN.png}; labeled runs write the mmsegmentation layout
 * {@code OUT/img_dir/{train,val,test}/sim_NNNNNN.png} and {@code OUT/ann_dir/<split>/sim_NNNNNN.png}
 * (class indices: 0 background, 1 recess). Both end with {@code OUT/manifest.json}: the arguments,
 * the effective config and one entry per image. Every file is written atomically, and OUT appears only
 * when the whole set is there.
 */
public final class SimulationRun {
    public static final String[] SPLITS = {"train", "val", "test"};

    /** What to simulate and where. */
    public record Options(Path out, int count, int size, long seed, boolean labeled, int threads) {
        public Options {
            if (count < 1) {
                throw new IllegalArgumentException("--count must be >= 1, got " + count);
            }
            if (size < 16 || size > 4096) {
                throw new IllegalArgumentException("--size must be in [16, 4096], got " + size);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            }
        }
    }

    private SimulationRun() {}

    /**
     * Runs to completion and returns the elapsed seconds; progress goes to {@code progress}. The images go to a
     * staging folder renamed to {@code o.out()} at the end ({@link SimulationStaging}): a killed run leaves no
     * folder that passes for a data set, and the next run with the same settings finishes what it started. An
     * {@code o.out()} that is already this simulation is left as it is (0 s); one holding anything else but an
     * empty folder is an error.
     */
    public static double run(SimulatorConfig cfg, String configSource, Options o, Progress progress) {
        ObjectMapper json = new ObjectMapper();
        SimulationPlan plan = SimulationPlan.of(cfg, o);
        if (SimulatedFolder.finished(o.out(), plan)) {
            progress.note("simulate: " + o.out() + " is this simulation already (" + o.count() + " images); nothing to do");
            return 0;
        }
        try (SimulationStaging staging = SimulationStaging.open(o.out(), plan, json, progress)) {
            ObjectNode[] entries = new ObjectNode[o.count()];
            int[] todo = new int[o.count()]; // (count) indices of the images still to simulate, first todoCount used
            int todoCount = 0;
            for (int i = 0; i < o.count(); i++) {
                entries[i] = staging.done(i);
                if (entries[i] == null) {
                    todo[todoCount++] = i;
                }
            }
            int already = o.count() - todoCount;
            simulate(cfg, o, staging, todo, todoCount, entries, progress, already);
            writeManifest(json, plan, configSource, staging.dir(), entries, progress.seconds());
            staging.complete();
            return progress.seconds();
        } catch (IOException e) {
            throw new UncheckedIOException("simulation into " + o.out() + " failed: " + e.getMessage(), e);
        }
    }

    /** Simulates images todo[0 .. todoCount) into the staging folder on o.threads() workers. */
    private static void simulate(SimulatorConfig cfg, Options o, SimulationStaging staging, int[] todo, int todoCount,
                                 ObjectNode[] entries, Progress progress, int already) {
        int digits = Math.max(6, Long.toString(o.count() - 1).length());
        String nameFormat = "sim_%0" + digits + "d.png";
        AtomicInteger next = new AtomicInteger(), done = new AtomicInteger(already);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ObjectMapper json = new ObjectMapper();
        ExecutorService pool = Executors.newFixedThreadPool(o.threads(), r -> {
            Thread t = new Thread(r, "densecl-simulate");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < o.threads(); t++) {
            futures.add(pool.submit(() -> {
                KneeSimulator sim = new KneeSimulator(cfg);
                PngWriter png = new PngWriter(0.9f); // deflate level 1: 40 % smaller than stored, fast
                SimImage img = new SimImage(o.size(), o.size(), false);
                byte[] mask = new byte[o.size() * o.size()];
                int k;
                while (failure.get() == null && (k = next.getAndIncrement()) < todoCount) {
                    int i = todo[k];
                    try {
                        sim.generate(o.seed(), i, img);
                        entries[i] = writeOne(json, o, staging.dir(), img, mask, String.format(Locale.ROOT, nameFormat, i),
                                png, cfg);
                        staging.record(entries[i]);
                        done.incrementAndGet();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }
            }));
        }
        pool.shutdown();
        try {
            while (!pool.awaitTermination(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                progress.update(done.get());
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("simulation interrupted");
        }
        Throwable f = failure.get();
        if (f != null) {
            if (f instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("simulation failed: " + f, f);
        }
        progress.finish(done.get());
    }

    /** The split of image (seed, index): a hash, so adding images never moves earlier ones. */
    public static String split(SimulatorConfig cfg, long seed, long index) {
        double u = (KneeSimulator.mix(~seed, index) >>> 11) * 0x1.0p-53;
        var s = cfg.split();
        return u < s.train() ? SPLITS[0] : u < s.train() + s.val() ? SPLITS[1] : SPLITS[2];
    }

    private static ObjectNode writeOne(ObjectMapper json, Options o, Path dir, SimImage img, byte[] mask, String name,
                                       PngWriter png, SimulatorConfig cfg) {
        ObjectNode e = json.createObjectNode();
        e.put("index", img.index);
        String imageRel, maskRel = null;
        if (o.labeled()) {
            String split = split(cfg, o.seed(), img.index);
            imageRel = "img_dir/" + split + "/" + name;
            maskRel = "ann_dir/" + split + "/" + name;
            e.put("split", split);
        } else {
            imageRel = name;
        }
        png.writeGray(dir.resolve(imageRel), img.gray, img.height, img.width);
        e.put("image", imageRel);
        if (maskRel != null) {
            png.writeGray(dir.resolve(maskRel), img.mask(mask), img.height, img.width);
            e.put("mask", maskRel);
        }
        e.put("recessPixels", img.recessArea());
        e.put("recessDepthMm", round(img.recessDepthMm));
        e.put("pixelMm", round(img.pxMm));
        e.put("depthMm", round(img.depthMm));
        e.put("frequencyMhz", round(img.frequencyMhz));
        e.put("dynamicRangeDb", round(img.dynamicRangeDb));
        return e;
    }

    private static void writeManifest(ObjectMapper json, SimulationPlan plan, String configSource, Path dir,
                                      ObjectNode[] entries, double seconds) {
        ObjectNode root = json.createObjectNode();
        root.put("generator", "densecl simulate");
        plan.putInto(root);
        root.put("layout", plan.labeled() ? "mmsegmentation" : "image folder");
        root.putArray("classes").add("background").add("recess");
        root.put("config", configSource);
        root.set("effectiveConfig", plan.effectiveConfig());
        root.put("seconds", round(seconds));
        ArrayNode list = root.putArray("images");
        for (ObjectNode e : entries) {
            list.add(e);
        }
        ObjectMapper pretty = json.copy().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(dir.resolve("manifest.json"), out -> pretty.writeValue(out, root));
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }
}
