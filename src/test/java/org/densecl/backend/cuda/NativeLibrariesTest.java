package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Library discovery without CUDA: the JDK's own libjava.so stands in for a CUDA library, linked under a
 * CUDA-like soname into override folders and fake wheel trees.
 */
class NativeLibrariesTest {
    private static final Path LIBJAVA = Path.of(System.getProperty("java.home"), "lib", "libjava.so");
    // A symbol libjava.so exports, so finding it proves the right library was opened.
    private static final String JAVA_SYMBOL = "JNU_ThrowByName";

    @TempDir
    Path tmp;

    @Test
    void sonameThroughTheSystemLoader() {
        SymbolLookup lib = NativeLibraries.open("libm", List.of("libnotthere.so.1", "libm.so.6"), null, null, List.of());
        assertTrue(lib.find("cos").isPresent());
    }

    @Test
    void overrideFileAndFolder() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("override"));
        Files.createSymbolicLink(dir.resolve("libfake.so.1"), LIBJAVA);
        SymbolLookup byFolder = NativeLibraries.open("fake", List.of("libfake.so.1"), "X", dir.toString(), List.of());
        assertTrue(byFolder.find(JAVA_SYMBOL).isPresent());
        SymbolLookup byFile = NativeLibraries.open("fake", List.of("libother.so"), "X",
                "/nonexistent:" + dir.resolve("libfake.so.1"), List.of());
        assertTrue(byFile.find(JAVA_SYMBOL).isPresent());
    }

    @Test
    void wheelFoldersAreFoundAndSearched() throws IOException {
        Path site = tmp.resolve("site");
        Path cu13 = Files.createDirectories(site.resolve("nvidia/cu13/lib"));
        Path cudnn = Files.createDirectories(site.resolve("nvidia/cudnn/lib"));
        Files.createDirectories(site.resolve("nvidia/nolib"));
        Files.createSymbolicLink(cudnn.resolve("libfakednn.so.9"), LIBJAVA);
        Path home = Files.createDirectories(tmp.resolve("home"));
        List<Path> folders = NativeLibraries.wheelLibraryFolders(Map.of(NativeLibraries.LIB_DIRS_ENV, site.toString()), home);
        assertTrue(folders.contains(cu13), folders.toString());
        assertTrue(folders.contains(cudnn), folders.toString());
        assertFalse(folders.contains(site.resolve("nvidia/nolib/lib")), folders.toString());
        SymbolLookup lib = NativeLibraries.open("fake cuDNN", List.of("libfakednn.so.9"), null, null, folders);
        assertTrue(lib.find(JAVA_SYMBOL).isPresent());
    }

    @Test
    void userSitePackagesUnderHome() throws IOException {
        Path home = tmp.resolve("home");
        Path lib = Files.createDirectories(home.resolve(".local/lib/python3.12/site-packages/nvidia/cublas/lib"));
        assertTrue(NativeLibraries.wheelLibraryFolders(Map.of(), home).contains(lib));
    }

    @Test
    void prefixOfThePython3OnPath() throws IOException {
        Path prefix = tmp.resolve("venv");
        Path python = Files.createDirectories(prefix.resolve("bin")).resolve("python3");
        Files.writeString(python, "#!/bin/sh\n");
        python.toFile().setExecutable(true);
        Path lib = Files.createDirectories(prefix.resolve("lib/python3.11/site-packages/nvidia/cudnn/lib"));
        Map<String, String> env = Map.of("PATH", tmp.resolve("nothing") + ":" + prefix.resolve("bin"));
        assertTrue(NativeLibraries.wheelLibraryFolders(env, tmp.resolve("home")).contains(lib));
    }

    @Test
    void failureListsEverythingTriedOnOneLine() throws IOException {
        Path wheel = Files.createDirectories(tmp.resolve("nvidia/cu13/lib"));
        Files.writeString(wheel.resolve("libfakecuda.so.1"), "not an ELF file");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> NativeLibraries.open(
                "the fake driver", List.of("libfakecuda.so.1"), "FAKE_ENV", tmp.resolve("nope").toString(),
                List.of(wheel)));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith("the fake driver could not be loaded (libfakecuda.so.1); tried: "), m);
        assertTrue(m.contains(tmp.resolve("nope") + " (no such file)"), m);
        assertTrue(m.contains("libfakecuda.so.1 (Cannot open library"), m);
        assertTrue(m.contains(wheel.resolve("libfakecuda.so.1") + " ("), m);
        assertTrue(m.endsWith("set FAKE_ENV to the library file or its folder"), m);
        // the order of the search: override, loader, wheel folders
        assertTrue(m.indexOf("(no such file)") < m.indexOf("libfakecuda.so.1 (Cannot")
                && m.indexOf("libfakecuda.so.1 (Cannot") < m.indexOf("cu13/lib/libfakecuda.so.1 ("), m);
    }
}
