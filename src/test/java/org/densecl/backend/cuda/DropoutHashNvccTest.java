package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.densecl.backend.DropoutMask;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dropout kernel's hash (native/elementwise.cu, dropout_uniform, a __host__ __device__ function)
 * compiled by nvcc as host code and run here: its values must equal DropoutMask.uniform bit for bit,
 * so every backend drops the same channels for a seed. Skips, saying why, where nvcc is absent.
 */
class DropoutHashNvccTest {
    private static final long[] SEEDS = {0L, 1L, 42L, -1L, 0x9E3779B97F4A7C15L, Long.MIN_VALUE};
    private static final int[] SAMPLES = {0, 1, 7, 1000, Integer.MAX_VALUE};
    private static final int[] CHANNELS = {0, 3, 63, 2047, -1};

    @TempDir
    Path tmp;

    @Test
    void deviceHashEqualsDropoutMask() throws IOException, InterruptedException {
        Path nvcc = Path.of("/usr/local/cuda/bin/nvcc");
        if (!Files.isExecutable(nvcc)) {
            String reason = "nvcc not found at " + nvcc;
            System.out.println("SKIPPED (needs nvcc) " + reason);
            Assumptions.assumeTrue(false, reason);
        }
        StringBuilder src = new StringBuilder("#include \"" + Path.of("native/elementwise.cu").toAbsolutePath()
                + "\"\n#include <cstdio>\nint main() {\n");
        for (long seed : SEEDS) {
            for (int s : SAMPLES) {
                for (int c : CHANNELS) {
                    src.append("  printf(\"%a\\n\", (double)dropout_uniform(").append(seed).append("ULL, ").append(s)
                            .append(", ").append(c).append("));\n");
                }
            }
        }
        src.append("  return 0;\n}\n");
        Path cu = Files.writeString(tmp.resolve("hash.cu"), src.toString());
        Path exe = tmp.resolve("hash");
        run(List.of(nvcc.toString(), "-arch=sm_80", "-o", exe.toString(), cu.toString()));
        List<String> lines = run(List.of(exe.toString()));
        int i = 0;
        for (long seed : SEEDS) {
            for (int s : SAMPLES) {
                for (int c : CHANNELS) {
                    float want = DropoutMask.uniform(seed, s, c);
                    assertEquals(want, (float) Double.parseDouble(lines.get(i++)),
                            "seed " + seed + " sample " + s + " channel " + c);
                }
            }
        }
    }

    private static List<String> run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(command.get(0) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8).lines().toList();
    }
}
