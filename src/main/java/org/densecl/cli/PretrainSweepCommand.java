package org.densecl.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.densecl.data.io.AtomicFiles;
import org.densecl.densecl.PretrainVerdict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl bench pretrain-sweep}: is a pretraining recipe robust to the summation order? Runs
 * {@code pretrain} once per (seed, vector width, threads), each in a JVM of its own (the vector width is
 * fixed when the JVM starts), and prints one row per run with the collapse indicators of its summary.json.
 * Finished runs are kept, so an interrupted sweep continues where it stopped.
 */
@Command(name = "pretrain-sweep", mixinStandardHelpOptions = true,
        description = {"Check a pretraining recipe over seeds x vector widths x thread counts: did the global head end alive?",
                "Alive: q_std and sim_pos - sim_neg, averaged over the last 10%% of steps, at or above their thresholds.",
                "Each run writes DIR/s<seed>-v<bits>-t<threads>/; the table goes to DIR/sweep.md and sweep.json."})
public final class PretrainSweepCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", defaultValue = "configs/densecl_quick.yaml",
            description = "pretraining config (default ${DEFAULT-VALUE})")
    Path config;

    @Option(names = "--seeds", split = ",", paramLabel = "S", description = "run.seed values (default: 0,1,2"
            + " where two vector widths run natively, 0..4 where only one does)")
    List<Long> seeds;

    @Option(names = "--vector-bits", split = ",", paramLabel = "B", description = "vector widths in bits (default:"
            + " the widths this CPU runs natively: 256, and 512 where it has AVX-512)")
    List<Integer> vectorBits;

    @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "0",
            description = "run.threads values (default ${DEFAULT-VALUE}: all cores)")
    List<Integer> threads;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a config override passed to every run")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "runs/sweep", description = "output folder (default ${DEFAULT-VALUE})")
    Path output;

    /** One finished run: its coordinates and its verdict. */
    record Row(long seed, int bits, int threads, PretrainVerdict verdict, String folder) {}

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("--config " + config + " does not exist");
        }
        int nativeBits = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        List<Integer> widths = vectorBits != null ? vectorBits : nativeBits >= 512 ? List.of(256, 512) : List.of(nativeBits);
        List<Long> seedList = seeds != null ? seeds : widths.size() > 1 ? List.of(0L, 1L, 2L) : List.of(0L, 1L, 2L, 3L, 4L);
        int runs = seedList.size() * widths.size() * threads.size();
        System.err.printf(Locale.ROOT, "pretrain-sweep: %s, %d runs (seeds %s x vector bits %s x threads %s) into %s;"
                + " this CPU's preferred width is %d bits%n", config, runs, seedList, widths, threads, output, nativeBits);
        List<Row> rows = new ArrayList<>();
        int done = 0;
        long start = System.nanoTime();
        for (int bits : widths) {
            for (long seed : seedList) {
                for (int requested : threads) {
                    int t = requested > 0 ? requested : Runtime.getRuntime().availableProcessors();
                    String name = String.format(Locale.ROOT, "s%d-v%d-t%d", seed, bits, t);
                    Path dir = output.resolve(name);
                    Path summary = dir.resolve("summary.json");
                    done++;
                    if (!Files.exists(summary)) {
                        System.err.printf(Locale.ROOT, "pretrain-sweep: run %d/%d %s (log: %s) ...%n", done, runs, name,
                                dir.resolve("pretrain.out"));
                        runPretrain(dir, seed, bits, t);
                    }
                    PretrainVerdict v = PretrainVerdict.read(summary);
                    rows.add(new Row(seed, bits, t, v, name));
                    System.err.printf(Locale.ROOT, "pretrain-sweep: run %d/%d %s: %s (%.1f min so far)%n", done, runs, name,
                            v.line(), (System.nanoTime() - start) / 60e9);
                }
            }
        }
        String table = table(rows);
        System.out.print(table);
        AtomicFiles.write(output.resolve("sweep.md"), out -> out.write(table.getBytes(StandardCharsets.UTF_8)));
        writeJson(rows);
        long alive = rows.stream().filter(r -> r.verdict().alive()).count();
        System.err.printf(Locale.ROOT, "pretrain-sweep: %d of %d runs alive -> %s%n", alive, rows.size(),
                output.resolve("sweep.md"));
        return 0;
    }

    /** Starts {@code pretrain} in a child JVM with this JVM's runtime, class path and the given vector width. */
    private void runPretrain(Path dir, long seed, int bits, int t) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> args = new ArrayList<>(List.of("pretrain", "--config", config.toString(), "--output",
                dir.toString(), "--set", "run.seed=" + seed, "--set", "run.threads=" + t));
        for (String o : overrides) {
            args.addAll(List.of("--set", o));
        }
        List<String> cmd = ChildJvm.command(List.of("-Ddensecl.vectorBits=" + bits), args);
        Path out = dir.resolve("pretrain.out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException("pretrain-sweep: the run in " + dir + " failed with exit code " + rc
                    + "; its output is in " + out);
        }
    }

    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| seed | vector bits | threads | q_std | sim_pos - sim_neg | dead hidden | alive |\n");
        sb.append("|---:|---:|---:|---:|---:|---:|:---|\n");
        for (Row r : rows) {
            PretrainVerdict v = r.verdict();
            sb.append(String.format(Locale.ROOT, "| %d | %d | %d | %.3f | %.3f | %.2f | %s |%n", r.seed(), r.bits(),
                    r.threads(), v.qStd(), v.gap(), v.deadHidden(), v.alive() ? "yes" : "**no**"));
        }
        return sb.toString();
    }

    private void writeJson(List<Row> rows) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("run", r.folder());
            m.put("seed", r.seed());
            m.put("vector_bits", r.bits());
            m.put("threads", r.threads());
            m.put("q_std", r.verdict().qStd());
            m.put("sim_gap", r.verdict().gap());
            m.put("dead_hidden", r.verdict().deadHidden());
            m.put("alive", r.verdict().alive());
            list.add(m);
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(output.resolve("sweep.json"), out -> out.write(json.writeValueAsBytes(list)));
    }
}
