package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every cuBLAS and cuDNN function our bindings look up exists, under that exact name, in the library that
 * exports it: checked against src/test/resources/cuda/reference-symbols.txt, the undefined symbols of the
 * JavaCPP CUDA 13.1 / cuDNN 9.19 JNI libraries (made by bench/gpu/reference-symbols), because no machine
 * here has cuBLAS or cuDNN. The names are read from the binding sources, from every
 * {@code bind("name", ...)} call, so a new downcall is checked without editing this test.
 */
class CudaSymbolsTest {
    private static final Path SOURCES = Path.of("src/main/java/org/densecl/backend/cuda");
    private static final Pattern BIND = Pattern.compile("\\.bind\\(\"(\\w+)\"");

    static Map<String, String> reference() throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (InputStream in = CudaSymbolsTest.class.getResourceAsStream("/cuda/reference-symbols.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length == 2) {
                    out.put(f[0], f[1]);
                }
            }
        }
        return out;
    }

    static TreeSet<String> boundNames(String prefix) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher m = BIND.matcher(Files.readString(p));
                while (m.find()) {
                    if (m.group(1).startsWith(prefix)) {
                        names.add(m.group(1));
                    }
                }
            }
        }
        return names;
    }

    @Test
    void everyCublasFunctionIsExportedByLibcublas() throws IOException {
        Map<String, String> ref = reference();
        TreeSet<String> names = boundNames("cublas");
        assertTrue(names.containsAll(List.of("cublasGemmEx", "cublasGemmStridedBatchedEx", "cublasCreate_v2")),
                "the scan found the bindings: " + names);
        List<String> wrong = new ArrayList<>();
        for (String n : names) {
            if (!"libcublas.so.13".equals(ref.get(n))) {
                wrong.add(n + " (reference: " + ref.get(n) + ")");
            }
        }
        assertEquals(List.of(), wrong, "cuBLAS names not exported by libcublas.so.13");
    }

    /**
     * The driver functions (CudaDriver's binds) against the cuda.h of this machine's toolkit: each must be
     * declared there (or be the versioned name a #define maps an API name to, e.g. cuMemAlloc_v2).
     */
    @Test
    void everyDriverFunctionIsDeclaredInCudaH() throws IOException {
        Path header = Path.of("/usr/local/cuda/include/cuda.h");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(header), "no " + header + " on this machine");
        String h = Files.readString(header);
        TreeSet<String> names = boundNames("cu");
        names.removeIf(n -> n.startsWith("cublas") || n.startsWith("cudnn"));
        assertTrue(names.containsAll(List.of("cuLaunchKernel", "cuMemAlloc_v2")), "the scan found the driver: " + names);
        List<String> missing = new ArrayList<>();
        for (String n : names) {
            if (!Pattern.compile("\\b" + n + "\\s*\\(").matcher(h).find()
                    && !Pattern.compile("#define\\s+\\w+\\s+" + n + "\\b").matcher(h).find()) {
                missing.add(n);
            }
        }
        assertEquals(List.of(), missing, "driver names not in " + header);
    }

    @Test
    void everyCudnnFunctionIsExportedByACudnnSubLibrary() throws IOException {
        Map<String, String> ref = reference();
        TreeSet<String> names = boundNames("cudnn");
        assertTrue(names.containsAll(List.of("cudnnConvolutionForward", "cudnnBatchNormalizationBackward",
                "cudnnGetConvolutionBackwardFilterAlgorithm_v7")), "the scan found the bindings: " + names);
        List<String> wrong = new ArrayList<>();
        for (String n : names) {
            String lib = ref.get(n);
            if (lib == null || !lib.matches("libcudnn_(graph|ops|cnn|adv)\\.so\\.9")) {
                wrong.add(n + " (reference: " + lib + ")");
            }
        }
        assertEquals(List.of(), wrong, "cuDNN names not exported by cuDNN 9");
    }
}
