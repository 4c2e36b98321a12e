package org.densecl.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.densecl.cli.Main;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;

/**
 * The command line around the experiment (issue item 8's conventions): experiment is registered with its
 * options, bench's tools are subcommands with their own help while other arguments still reach JMH in order,
 * and --output names the output of every command that writes one (--out stays as an alias).
 */
class ExperimentCliTest {
    @Test
    void experimentIsACommandWithItsOptions() {
        CommandLine cli = new CommandLine(new Main());
        CommandLine.ParseResult r = cli.parseArgs("experiment", "--output", "runs/e", "--sizes", "16,32,64",
                "--allow-collapsed", "--set", "trials=2");
        CommandLine.ParseResult sub = r.subcommand();
        assertEquals("experiment", sub.commandSpec().name());
        assertEquals(List.of(16, 32, 64), sub.matchedOptionValue("--sizes", List.of()));
        assertEquals(Path.of("runs/e"), sub.matchedOptionValue("--output", null));
        assertEquals(Path.of("configs/experiment_quick.yaml"), sub.commandSpec().findOption("--config").getValue());
        assertTrue(help(cli, "experiment").contains("report.md"), "experiment --help says what it writes");
    }

    @Test
    void benchToolsAreSubcommandsAndJmhArgumentsPassThrough() {
        CommandLine cli = new CommandLine(new Main());
        CommandLine bench = cli.getSubcommands().get("bench");
        assertEquals(List.of("gemm-summary", "step", "conv-layers", "ratios", "pretrain-sweep", "fresh-jvms"),
                List.copyOf(bench.getSubcommands().keySet()));
        assertTrue(help(cli, "bench", "pretrain-sweep").contains("--vector-bits"), "pretrain-sweep --help");
        assertTrue(help(cli, "bench", "gemm-summary").contains("--quick"), "gemm-summary --help");
        assertTrue(help(cli, "bench", "conv-layers").contains("--compare-pytorch"), "conv-layers --help");
        assertTrue(help(cli, "bench", "ratios").contains("--target"), "ratios --help");
        assertTrue(help(cli, "bench", "step").contains("--record"), "step --help");
        CommandLine.ParseResult r = new CommandLine(new Main()).parseArgs("bench", "GemmBench", "-p", "shape=1024", "-f",
                "1", "-h");
        assertEquals(List.of("GemmBench", "-p", "shape=1024", "-f", "1", "-h"), r.subcommand().unmatched(),
                "JMH's arguments reach it untouched and in order");
    }

    @Test
    void outputNamesTheOutputEverywhere() {
        for (String[] args : List.of(new String[] {"simulate", "--output", "d"}, new String[] {"simulate", "--out", "d"},
                new String[] {"embed", "--weights", "w", "--images", "i", "--output", "f.csv"},
                new String[] {"plot", "--log", "l", "--output", "p.png"}, new String[] {"pretrain", "--config", "c",
                        "--output", "d"}, new String[] {"finetune", "--config", "c", "--init", "kaiming", "--output", "d"})) {
            CommandLine.ParseResult r = new CommandLine(new Main()).parseArgs(args);
            assertTrue(r.subcommand().hasMatchedOption("--output"), String.join(" ", args));
        }
    }

    private static String help(CommandLine root, String... path) {
        CommandLine c = root;
        for (String p : path) {
            c = c.getSubcommands().get(p);
        }
        StringWriter w = new StringWriter();
        c.usage(new PrintWriter(w));
        return w.toString();
    }
}
