package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of issue 18, read from the sources: the cpu backend's machinery (cpu.gemm,
 * cpu.winograd) does not reach back into the cpu package, so dependencies run cpu -> gemm/winograd ->
 * parallel; and no main class depends on the JMH benchmarks of bench/.
 */
class PackageDependencyTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)\\s*;", Pattern.MULTILINE);
    // A fully qualified use of a class of the cpu package itself (org.densecl.backend.cpu.Foo).
    private static final Pattern CPU_CLASS = Pattern.compile("\\borg\\.densecl\\.backend\\.cpu\\.[A-Z]\\w*");

    @Test
    void gemmAndWinogradDoNotUseTheCpuPackage() {
        List<String> offending = new ArrayList<>();
        for (String sub : List.of("gemm", "winograd")) {
            for (Path f : javaFiles(MAIN.resolve("org/densecl/backend/cpu").resolve(sub))) {
                String code = withoutComments(read(f));
                Matcher m = CPU_CLASS.matcher(code);
                while (m.find()) {
                    offending.add(f + ": " + m.group());
                }
            }
        }
        assertEquals(List.of(), offending, "cpu.gemm and cpu.winograd must not depend on org.densecl.backend.cpu");
    }

    @Test
    void mainCodeDoesNotImportBench() {
        List<String> offending = new ArrayList<>();
        List<Path> files = javaFiles(MAIN);
        assertTrue(files.size() > 100, "expected the main sources under " + MAIN.toAbsolutePath());
        for (Path f : files) {
            Matcher m = IMPORT.matcher(read(f));
            while (m.find()) {
                if (m.group(1).startsWith("org.densecl.bench.")) {
                    offending.add(f + ": " + m.group(1));
                }
            }
        }
        assertEquals(List.of(), offending, "src/main/java must not depend on the benchmarks of bench/");
    }

    @Test
    void theRuleSeesAnImportOfTheCpuPackage() {
        String src = "package org.densecl.backend.cpu.gemm;\n// org.densecl.backend.cpu.Comment\n"
                + "import org.densecl.backend.cpu.Parallel;\nimport org.densecl.backend.cpu.parallel.Parallel;\n";
        Matcher m = CPU_CLASS.matcher(withoutComments(src));
        assertTrue(m.find());
        assertEquals("org.densecl.backend.cpu.Parallel", m.group());
        assertTrue(!m.find(), "a sub-package's class or a comment is not a use of the cpu package");
    }

    private static String withoutComments(String src) {
        return src.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
    }

    private static List<Path> javaFiles(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
