package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.densecl.backend.PoolGeometry;
import org.junit.jupiter.api.Test;

/**
 * The kernel layer without a GPU: the Java kernel list against the sources, every Java launch method's
 * packed arguments against the C prototype of the kernel it launches (count, order and kind), the
 * launch shapes, and the fatbin on the classpath.
 */
class CudaKernelsHostTest {
    private static final Path NATIVE = Path.of("native");
    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)");

    /** Kernel name → argument kinds (P pointer, L long long, I int, F float), parsed from native/*.cu. */
    static Map<String, String> sourceKernels() throws IOException {
        Map<String, String> out = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(NATIVE)) {
            files = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no native/*.cu found from " + Path.of("").toAbsolutePath());
        for (Path f : files) {
            Matcher m = KERNEL.matcher(Files.readString(f));
            while (m.find()) {
                String kinds = Arrays.stream(m.group(2).split(",")).map(String::strip).map(CudaKernelsHostTest::kind)
                        .collect(Collectors.joining());
                assertTrue(out.put(m.group(1), kinds) == null, "kernel " + m.group(1) + " defined twice");
            }
        }
        return out;
    }

    private static String kind(String param) {
        if (param.contains("*")) {
            return "P";
        }
        if (param.contains("long long")) {
            return "L";
        }
        if (param.startsWith("float ")) {
            return "F";
        }
        if (param.startsWith("int ") || param.startsWith("unsigned int ")) {
            return "I";
        }
        throw new IllegalArgumentException("unknown kernel parameter type: " + param);
    }

    @Test
    void javaKernelListIsExactlyTheSourceKernels() throws IOException {
        Set<String> java = Arrays.stream(CudaKernel.values()).map(k -> k.symbol).collect(Collectors.toSet());
        assertEquals(sourceKernels().keySet(), java);
    }

    /** One queued launch as the recorder saw it. */
    private record Launch(CudaKernel kernel, String kinds, int gridX, int gridY, int blockX, int blockY) {}

    /** Records launches; reads return "nothing bad" (ULLONG_MAX), so the throwIf methods stay quiet. */
    private static final class Recorder implements KernelQueue {
        final List<Launch> launches = new ArrayList<>();
        int memsets;

        @Override
        public void launch(CudaKernel k, int gridX, int gridY, int blockX, int blockY, long stream, KernelArgs args) {
            launches.add(new Launch(k, args.kinds(), gridX, gridY, blockX, blockY));
        }

        @Override
        public void memset(long ptr, byte value, long bytes, long stream) {
            memsets++;
        }

        @Override
        public long read(long stream, long ptr, int bytes) {
            return -1L;
        }
    }

    @Test
    void everyLaunchMatchesItsCPrototype() throws Exception {
        Map<String, String> prototypes = sourceKernels();
        Recorder rec = new Recorder();
        try (CudaKernels kernels = new CudaKernels(rec)) {
            for (Method m : CudaKernels.class.getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers()) || Modifier.isStatic(m.getModifiers())
                        || m.getParameterCount() == 0 || m.getParameterTypes()[0] != long.class) {
                    continue;
                }
                int before = rec.launches.size();
                try {
                    m.invoke(kernels, sampleArguments(m));
                } catch (InvocationTargetException e) {
                    fail(m.getName() + " threw " + e.getCause(), e.getCause());
                }
                if (!m.getName().startsWith("throwIf")) {
                    assertTrue(rec.launches.size() > before, m.getName() + " launched nothing");
                }
            }
        }
        for (Launch l : rec.launches) {
            assertEquals(prototypes.get(l.kernel().symbol), l.kinds(), "arguments packed for " + l.kernel().symbol);
            assertTrue(l.gridX() >= 1 && l.gridY() >= 1 && l.blockX() * l.blockY() <= 1024
                    && l.blockX() % 32 == 0, l.toString());
        }
        Set<CudaKernel> launched = rec.launches.stream().map(Launch::kernel).collect(Collectors.toSet());
        assertEquals(Set.of(CudaKernel.values()), launched, "kernels no Java method launches");
        assertTrue(rec.memsets >= 2, "label counts are zeroed before the kernels that add to them");
    }

    /** Plausible values: sizes small and positive, pointers non-zero, flags true. */
    private static Object[] sampleArguments(Method m) {
        Class<?>[] types = m.getParameterTypes();
        Object[] out = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            Class<?> t = types[i];
            out[i] = t == long.class ? (Object) (4096L * (i + 1)) : t == int.class ? (Object) 6
                    : t == float.class ? (Object) 0.5f : t == boolean.class ? (Object) true
                    : t == PoolGeometry.class ? PoolGeometry.resnetStem(2, 8, 8, 4) : t == String.class ? "op" : null;
            if (out[i] == null) {
                throw new IllegalArgumentException(m.getName() + ": no sample for " + t);
            }
        }
        return out;
    }

    // Java argument expression → C parameter name, where the two legitimately differ.
    private static final Set<String> ALIASES = Set.of("workspace=part", "workspace=count",
            "ceilDiv(rows, groups)=chunkRows", "dy=x", "db=out", "counter=count");

    /**
     * The kinds test cannot tell two pointers apart; names can: each argument packed in CudaKernels.java
     * (the expressions of an args.begin() chain) must be the C parameter of the same position, by name or
     * by a listed alias. Catches swapped pointers (mean and invStd, x and y) in the Java source.
     */
    @Test
    void packedArgumentNamesFollowTheCParameters() throws IOException {
        Map<String, List<String>> cNames = new TreeMap<>();
        try (Stream<Path> s = Files.list(NATIVE)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".cu")).toList()) {
                Matcher m = KERNEL.matcher(Files.readString(f));
                while (m.find()) {
                    cNames.put(m.group(1), Arrays.stream(m.group(2).split(","))
                            .map(p -> p.strip().replaceAll(".*[\\s*]", "")).toList());
                }
            }
        }
        String java = Files.readString(Path.of("src/main/java/org/densecl/backend/cuda/CudaKernels.java"));
        Matcher chain = Pattern.compile("args\\.begin\\(\\)((?:\\s*\\.\\w+\\((?:[^()]|\\([^()]*\\))*\\))+);"
                + "\\s*(packPool\\(g\\);\\s*)?launch\\w*\\(CudaKernel\\.(\\w+)").matcher(java);
        Pattern arg = Pattern.compile("\\.\\w+\\(((?:[^()]|\\([^()]*\\))*)\\)");
        int chains = 0;
        while (chain.find()) {
            chains++;
            List<String> given = new ArrayList<>();
            Matcher a = arg.matcher(chain.group(1));
            while (a.find()) {
                given.add(a.group(1).strip());
            }
            if (chain.group(2) != null) {
                given.addAll(List.of("n", "h", "w", "c", "r", "s", "stride", "pad", "pOut", "qOut"));
            }
            String symbol = CudaKernel.valueOf(chain.group(3)).symbol;
            List<String> want = cNames.get(symbol);
            assertEquals(want.size(), given.size(), symbol + ": " + given + " for " + want);
            for (int i = 0; i < want.size(); i++) {
                String g = given.get(i), w = want.get(i);
                assertTrue(g.equals(w) || ALIASES.contains(g + "=" + w), symbol + " argument " + i + ": " + g
                        + " is passed where the kernel takes " + w);
            }
        }
        assertEquals(CudaKernel.values().length, chains, "every kernel has one packing in CudaKernels.java");
    }

    @Test
    void reductionShapes() {
        assertEquals(1, CudaKernels.reductionGroups(1));
        assertEquals(128, CudaKernels.reductionGroups(64L * 112 * 112));
        // (2, G, c) double partials plus (2, c) float means
        assertEquals(8L * 2 * 4 * 64 + 4L * 2 * 64, CudaKernels.columnWorkspaceBytes(1000, 64));
        assertEquals(8L * (1 + 4), CudaKernels.crossEntropyWorkspaceBytes(1000)); // count, 4 block sums
    }

    @Test
    void fatbinIsBuiltWhereNvccIsAndHoldsEveryKernel() throws IOException {
        boolean nvcc = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "nvcc"))) || Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"));
        try (InputStream in = CudaKernels.class.getResourceAsStream(CudaKernels.RESOURCE)) {
            if (in == null) {
                assertFalse(nvcc, "nvcc is on this machine but the build made no " + CudaKernels.RESOURCE);
                CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CudaKernels::fatbin);
                assertTrue(e.getMessage().startsWith("kernels were not built"), e.getMessage());
                return;
            }
        }
        // Kernel names are plain ASCII in the ELF symbol tables and the PTX of a fatbin.
        String bytes = new String(CudaKernels.fatbin(), StandardCharsets.ISO_8859_1);
        for (CudaKernel k : CudaKernel.values()) {
            assertTrue(bytes.contains(k.symbol + "\0") || bytes.contains(".entry " + k.symbol), k.symbol);
        }
        assertTrue(bytes.contains("sm_80") && bytes.contains("sm_90"), "sm_80 and sm_90 code");
    }
}
