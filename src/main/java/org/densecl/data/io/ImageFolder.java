package org.densecl.data.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * An unlabeled image folder (the pretraining pool): every PNG or JPEG below a root, recursively,
 * in a fixed (sorted) order. Hidden files and folders (a leading dot: temporaries of atomic writes)
 * are skipped. 8- or 16-bit, gray or colour, all decoded to {@link GrayImage}.
 */
public final class ImageFolder {
    private final Path root;
    private final List<Path> files;

    public ImageFolder(Path root) {
        this.root = root;
        this.files = listImages(root);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no PNG or JPEG images under " + root);
        }
    }

    public int size() {
        return files.size();
    }

    public Path file(int i) {
        return files.get(i);
    }

    public GrayImage load(int i) {
        return ImageDecoder.readImage(files.get(i));
    }

    public Path root() {
        return root;
    }

    static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /** Sorted image files under {@code root}; an error when root is not a folder. */
    static List<Path> listImages(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("image folder not found: " + root);
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !hidden(root, p) && Files.isRegularFile(p) && isImage(p)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    private static boolean hidden(Path root, Path p) {
        for (Path part : root.relativize(p)) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }
}
