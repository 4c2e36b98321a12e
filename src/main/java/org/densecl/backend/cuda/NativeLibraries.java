package org.densecl.backend.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds and opens the CUDA libraries (driver, cuBLAS, cuDNN). In order, {@link #open} tries:
 * <ol>
 *   <li>the override variable: one or more paths separated by ':', each a library file or a folder
 *       holding one of the sonames;</li>
 *   <li>each soname through the dynamic loader (dlopen: LD_LIBRARY_PATH, the ld.so cache);</li>
 *   <li>each soname in the lib folders of NVIDIA's Python wheels ({@link #wheelLibraryFolders()}), where
 *       GPU machines with PyTorch keep cuBLAS and cuDNN.</li>
 * </ol>
 * Nothing here runs python: the site-packages folders are found by listing a few known roots, which costs
 * a handful of directory reads. cuDNN opens its sub-libraries by soname itself, so loading libcudnn.so.9
 * from a wheel folder is not enough: the {@code densecl} launcher puts those folders on LD_LIBRARY_PATH
 * before the JVM starts.
 */
public final class NativeLibraries {
    /** Extra folders (':'-separated): library folders, or site-packages roots holding nvidia/. */
    public static final String LIB_DIRS_ENV = "DENSECL_CUDA_LIB_DIRS";

    private NativeLibraries() {}

    /**
     * Opens the library {@code what} (a name for messages, e.g. "the CUDA driver"), trying the override
     * variable, each soname through the loader, then the wheel folders. Symbols live for the process
     * (Arena.global()). Throws {@link CudaUnavailableException} listing every path tried, on one line.
     */
    public static SymbolLookup open(String what, List<String> sonames, String overrideEnvVar) {
        String override = overrideEnvVar == null ? null : System.getenv(overrideEnvVar);
        return open(what, sonames, overrideEnvVar, override, wheelLibraryFolders());
    }

    /** {@link #open} with the override's value and the wheel folders given (tests pass their own). */
    static SymbolLookup open(String what, List<String> sonames, String overrideEnvVar, String overrideValue,
                             List<Path> wheelFolders) {
        List<String> tried = new ArrayList<>();
        if (overrideValue != null && !overrideValue.isBlank()) {
            for (String entry : overrideValue.split(":")) {
                if (entry.isBlank()) {
                    continue;
                }
                Path p = Path.of(entry.trim());
                List<Path> candidates = Files.isDirectory(p) ? sonames.stream().map(p::resolve).toList() : List.of(p);
                for (Path c : candidates) {
                    SymbolLookup lib = tryOpen(c.toString(), Files.exists(c), tried);
                    if (lib != null) {
                        return lib;
                    }
                }
            }
        }
        for (String soname : sonames) {
            SymbolLookup lib = tryOpen(soname, true, tried);
            if (lib != null) {
                return lib;
            }
        }
        for (Path folder : wheelFolders) {
            for (String soname : sonames) {
                Path c = folder.resolve(soname);
                if (Files.exists(c)) { // absent files are not listed: most wheel folders hold other libraries
                    SymbolLookup lib = tryOpen(c.toString(), true, tried);
                    if (lib != null) {
                        return lib;
                    }
                }
            }
        }
        String hint = overrideEnvVar == null ? "" : "; set " + overrideEnvVar + " to the library file or its folder";
        throw new CudaUnavailableException(what + " could not be loaded (" + String.join(", ", sonames)
                + "); tried: " + (tried.isEmpty() ? "nothing" : String.join("; ", tried))
                + (wheelFolders.isEmpty() ? "; no nvidia/*/lib wheel folders found" : "") + hint);
    }

    /** dlopen of a path or soname; records "name (why it failed)" and returns null on failure. */
    private static SymbolLookup tryOpen(String name, boolean exists, List<String> tried) {
        if (!exists) {
            tried.add(name + " (no such file)");
            return null;
        }
        try {
            return SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            String why = e.getMessage() == null ? "cannot open" : e.getMessage().replace('\n', ' ');
            tried.add(name + " (" + why + ")");
            return null;
        }
    }

    /**
     * The nvidia/*&#47;lib folders of Python wheel installs (nvidia/cu13/lib, nvidia/cudnn/lib, ...) under
     * the usual site-packages roots, the active virtualenv or conda prefix, the prefix of the python3 first
     * on PATH, pyenv's versions, and the folders of
     * {@value #LIB_DIRS_ENV} (each used as a library folder itself, and searched for nvidia/ too).
     * Existing folders only, in a stable order, without duplicates.
     */
    public static List<Path> wheelLibraryFolders() {
        return wheelLibraryFolders(System.getenv(), Path.of(System.getProperty("user.home", "/root")));
    }

    static List<Path> wheelLibraryFolders(Map<String, String> env, Path home) {
        Set<Path> out = new LinkedHashSet<>();
        String extra = env.get(LIB_DIRS_ENV);
        if (extra != null) {
            for (String entry : extra.split(":")) {
                if (!entry.isBlank()) {
                    Path p = Path.of(entry.trim());
                    if (Files.isDirectory(p)) {
                        out.add(p);
                    }
                    addNvidiaLibs(p, out);
                }
            }
        }
        List<Path> sitePackages = new ArrayList<>();
        for (String prefix : new String[] {env.get("VIRTUAL_ENV"), env.get("CONDA_PREFIX")}) {
            if (prefix != null && !prefix.isBlank()) {
                pythonDirs(Path.of(prefix, "lib"), "site-packages", sitePackages);
            }
        }
        // The python3 first on PATH (a virtualenv not activated, a conda or system install): its prefix.
        for (String dir : env.getOrDefault("PATH", "").split(":")) {
            if (!dir.isBlank() && Files.isExecutable(Path.of(dir, "python3")) && Path.of(dir).getParent() != null) {
                pythonDirs(Path.of(dir).getParent().resolve("lib"), "site-packages", sitePackages);
                pythonDirs(Path.of(dir).getParent().resolve("lib"), "dist-packages", sitePackages);
                break;
            }
        }
        for (Path version : list(home.resolve(".pyenv/versions"), "*")) {
            pythonDirs(version.resolve("lib"), "site-packages", sitePackages);
        }
        pythonDirs(Path.of("/usr/local/lib"), "dist-packages", sitePackages);
        pythonDirs(Path.of("/usr/local/lib"), "site-packages", sitePackages);
        sitePackages.add(Path.of("/usr/lib/python3/dist-packages"));
        pythonDirs(home.resolve(".local/lib"), "site-packages", sitePackages);
        pythonDirs(Path.of("/opt/conda/lib"), "site-packages", sitePackages);
        for (Path sp : sitePackages) {
            addNvidiaLibs(sp, out);
        }
        return List.copyOf(out);
    }

    /** Adds parent/python3*&#47;leaf for each python3* folder of parent, sorted (newest Python last). */
    private static void pythonDirs(Path parent, String leaf, List<Path> out) {
        for (Path d : list(parent, "python3*")) {
            out.add(d.resolve(leaf));
        }
    }

    /** Adds root/nvidia/*&#47;lib folders that exist. */
    private static void addNvidiaLibs(Path root, Set<Path> out) {
        for (Path pkg : list(root.resolve("nvidia"), "*")) {
            Path lib = pkg.resolve("lib");
            if (Files.isDirectory(lib)) {
                out.add(lib);
            }
        }
    }

    /** The entries of {@code dir} matching the glob, sorted; empty when dir does not exist. */
    private static List<Path> list(Path dir, String glob) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            ds.forEach(found::add);
        } catch (IOException e) {
            return List.of(); // an unreadable folder holds nothing we can load either
        }
        found.sort(null);
        return found;
    }
}
