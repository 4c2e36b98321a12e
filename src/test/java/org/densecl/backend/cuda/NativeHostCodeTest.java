package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.densecl.backend.DropoutMask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pieces of native/ that run as host code, compiled here: the dropout kernel's hash (dropout_uniform, a
 * __host__ __device__ function, built by nvcc) must equal DropoutMask.uniform bit for bit, so every
 * backend drops the same channels for a seed; the FOR_EACH_ROW_COL loop of common.cuh (built by g++
 * with the CUDA index variables stood in for) must visit every element once with the right row and
 * column for any grid. Each skips, saying why, where its compiler is absent.
 */
class NativeHostCodeTest {
    private static final long[] SEEDS = {0L, 1L, 42L, -1L, 0x9E3779B97F4A7C15L, Long.MIN_VALUE};
    private static final int[] SAMPLES = {0, 1, 7, 1000, Integer.MAX_VALUE};
    private static final int[] CHANNELS = {0, 3, 63, 2047, -1};

    @TempDir
    Path tmp;

    @Test
    void deviceHashEqualsDropoutMask() throws IOException, InterruptedException {
        Path nvcc = HostTools.require("/usr/local/cuda/bin/nvcc");
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
        HostTools.run(nvcc.toString(), "-arch=sm_80", "-o", exe.toString(), cu.toString());
        List<String> lines = HostTools.run(exe.toString());
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

    @Test
    void rowColumnLoopVisitsEveryElementOnce() throws IOException, InterruptedException {
        Path gxx = HostTools.require("/usr/bin/g++");
        String header = Files.readString(Path.of("native/common.cuh"));
        int from = header.indexOf("#define FOR_EACH_ROW_COL");
        String macro = header.substring(from, header.indexOf("\n\n", from) + 1);
        String src = """
                #include <cstdio>
                #include <vector>
                struct Dim { long long x; };
                Dim blockIdx, threadIdx, blockDim, gridDim;
                """ + macro + """
                int main() {
                  long long bad = 0;
                  for (int c : {1, 3, 37, 64, 1000}) for (long long n : {0LL, 1LL, 999LL, 7326LL, 100003LL})
                  for (int g : {1, 2, 3, 50}) for (int bd : {32, 256}) {
                    std::vector<int> seen(n, 0);
                    blockDim.x = bd; gridDim.x = g;
                    for (int b = 0; b < g; b++) for (int t = 0; t < bd; t++) {
                      blockIdx.x = b; threadIdx.x = t;
                      FOR_EACH_ROW_COL(i, m, j, n, c) { seen[i]++; if (m != i / c || j != i % c) bad++; }
                    }
                    for (long long i = 0; i < n; i++) bad += seen[i] != 1;
                  }
                  printf("%lld\\n", bad);
                  return 0;
                }
                """;
        Path cpp = Files.writeString(tmp.resolve("loop.cpp"), src);
        Path exe = tmp.resolve("loop");
        HostTools.run(gxx.toString(), "-O1", "-o", exe.toString(), cpp.toString());
        assertEquals(List.of("0"), HostTools.run(exe.toString()), "elements visited wrongly");
    }

}
