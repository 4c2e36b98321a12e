package org.densecl.data.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a file so that readers see either the old content or the complete new one, never a torn
 * file: write a temporary file next to the target, then rename it over the target.
 */
public final class AtomicFiles {
    /** The temporaries of this class and of the safetensors writer: ".NAME.SOMETHING.tmp" beside NAME. */
    private static final Pattern TEMPORARY = Pattern.compile("^\\..+\\.tmp$");

    private AtomicFiles() {}

    /** Something that writes the whole content to a stream. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    public static void write(Path target, Writer writer) {
        write(target, writer, WriteHook.NONE);
    }

    /** {@code text} as UTF-8, atomically. */
    public static void writeString(Path target, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /** As {@link #write(Path, Writer)}, the bytes going through {@code hook} (a test's failing channel). */
    public static void write(Path target, Writer writer, WriteHook hook) {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            // a unique name in the target's folder (so the rename stays on one file system); not
            // Files.createTempFile, whose owner-only permissions would carry over to the result
            tmp = dir.resolve("." + target.getFileName() + "." + Thread.currentThread().threadId() + "."
                    + System.nanoTime() + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream out = new BufferedOutputStream(Channels.newOutputStream(hook.wrap(ch)), 1 << 16)) {
                writer.write(out);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw failure(target, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure is what the user needs to see
                }
            }
        }
    }

    /**
     * The one-line error of a failed atomic write: the file, a missing folder, the cause (e.g. "No space left on
     * device") and, when the target exists, that its previous content is kept.
     */
    public static UncheckedIOException failure(Path target, IOException e) {
        String cause = e.getMessage() == null || e instanceof FileSystemException ? e.toString() : e.getMessage();
        Path dir = target.toAbsolutePath().getParent();
        String where = dir != null && !Files.isDirectory(dir) ? " (folder " + dir + " does not exist)" : "";
        String kept = Files.exists(target) ? " (the previous " + target.getFileName() + " is unchanged)" : "";
        return new UncheckedIOException("cannot write " + target + where + ": " + cause + kept, e);
    }

    /**
     * Deletes the temporaries that a process killed in the middle of an atomic write left in {@code dir} (not
     * below it). Only for a folder one run owns, such as a training run's output: another writer's temporary
     * there would be deleted under it.
     */
    public static void deleteStaleTemporaries(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> TEMPORARY.matcher(p.getFileName().toString()).matches()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean the temporaries of " + dir + ": " + e.getMessage(), e);
        }
    }
}
