package org.densecl.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One CLI command run in child JVMs and killed for real: {@link Process#destroyForcibly} is SIGKILL on Linux, so
 * nothing in the child gets to clean up, as after a power cut of the process. The child is this JVM's java with
 * its class path and module flags; each start's output is appended to {@code console.log} beside the outputs.
 */
public final class ChildCli {
    private static final long LIMIT_SECONDS = 120; // one start of a toy run; far above what one takes
    // Often enough to see a checkpoint's temporary (its write includes an fsync), seldom enough to leave the
    // child the machine's cores.
    private static final long POLL_NANOS = 500_000;

    /** A planned interruption: a name for the report, the moment (a condition on the files), a delay after it. */
    public record Kill(String name, BooleanSupplier when, long delayMillis) {}

    private final Path console;
    private final List<String> args;

    /** The command {@code args} (after "densecl"), its console appended to {@code console}. */
    public ChildCli(Path console, List<String> args) {
        this.console = console;
        this.args = List.copyOf(args);
    }

    /**
     * Starts the command and SIGKILLs it once {@code kill.when()} holds and {@code kill.delayMillis()} more have
     * passed. Returns false when the command finished first (then it must have succeeded).
     */
    public boolean killAt(Kill kill) throws InterruptedException {
        Process p = start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LIMIT_SECONDS);
            while (!kill.when().getAsBoolean()) {
                if (!p.isAlive()) {
                    assertEquals(0, p.exitValue(), "the child failed before '" + kill.name() + "'; see " + console);
                    return false;
                }
                if (System.nanoTime() > deadline) {
                    fail("'" + kill.name() + "' never came within " + LIMIT_SECONDS + " s; see " + console);
                }
                LockSupport.parkNanos(POLL_NANOS);
            }
            if (kill.delayMillis() > 0) {
                Thread.sleep(kill.delayMillis());
            }
            boolean alive = p.isAlive();
            p.destroyForcibly();
            p.waitFor();
            note("--- killed (SIGKILL) at '" + kill.name() + "'" + (alive ? "" : ", but it had ended already"));
            return alive;
        } finally {
            p.destroyForcibly();
        }
    }

    /** Runs the command to its end and checks that it succeeded. */
    public void finish() throws InterruptedException {
        Process p = start();
        try {
            if (!p.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
                fail("the child did not end within " + LIMIT_SECONDS + " s; see " + console);
            }
            assertEquals(0, p.exitValue(), "the child failed; its console is " + console + ":\n" + tail());
        } finally {
            p.destroyForcibly();
        }
    }

    private Process start() {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), "org.densecl.cli.Main"));
        cmd.addAll(args);
        try {
            note("--- densecl " + String.join(" ", args));
            return new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(console.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd.getFirst(), e);
        }
    }

    private void note(String line) {
        try {
            Files.createDirectories(console.toAbsolutePath().getParent());
            Files.writeString(console, line + System.lineSeparator(), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(console);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    // ------------------------------------------------------------------ moments to kill at

    /** Whether the temporary of an atomic write of {@code name} is in {@code dir}: the write is under way. */
    public static boolean writing(Path dir, String name) {
        Pattern tmp = Pattern.compile("^\\." + Pattern.quote(name) + "\\..+\\.tmp$");
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> tmp.matcher(p.getFileName().toString()).matches());
        } catch (IOException e) { // no such folder yet
            return false;
        }
    }

    /** The number of complete lines in {@code file} (0 when it does not exist). */
    public static long lines(Path file) {
        try {
            byte[] b = Files.readAllBytes(file);
            long n = 0;
            for (byte x : b) {
                n += x == '\n' ? 1 : 0;
            }
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * The number of PNG files in {@code dir} and its sub-folders (img_dir/SPLIT ...), 0 when it does not exist.
     * Names only, no file attributes: a writer renaming its temporaries meanwhile cannot make the count fail.
     */
    public static long pngs(Path dir) {
        long n = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (name.endsWith(".png") && !name.startsWith(".")) {
                    n++;
                } else if (!name.startsWith(".") && Files.isDirectory(p)) {
                    n += pngs(p);
                }
            }
        } catch (IOException | DirectoryIteratorException e) { // not there (yet), or renamed away
            return n;
        }
        return n;
    }
}
