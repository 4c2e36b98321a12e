package org.densecl.data.io;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Writes small test images of the kinds the decoders must handle. */
final class TestImages {
    private TestImages() {}

    /** 8-bit gray with value f(z, x). */
    static Path gray8(Path file, int h, int w, java.util.function.IntBinaryOperator f) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, z, 0, f.applyAsInt(z, x));
            }
        }
        return write(img, file);
    }

    static Path gray16(Path file, int h, int w, java.util.function.IntBinaryOperator f) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, z, 0, f.applyAsInt(z, x));
            }
        }
        return write(img, file);
    }

    /** RGB (or ARGB when alpha) with the same value in every channel, or per-channel values. */
    static Path rgb(Path file, int h, int w, boolean alpha, java.util.function.IntBinaryOperator rgbOf) {
        BufferedImage img = new BufferedImage(w, h, alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, z, (alpha ? 0xff000000 : 0) | rgbOf.applyAsInt(z, x));
            }
        }
        return write(img, file);
    }

    /** A palette PNG whose indices are f(z, x) and whose colours are unrelated to the indices. */
    static Path palette(Path file, int h, int w, java.util.function.IntBinaryOperator f) {
        byte[] r = new byte[256], g = new byte[256], b = new byte[256];
        for (int i = 0; i < 256; i++) {
            r[i] = (byte) (255 - i);
            g[i] = (byte) (i * 7);
            b[i] = (byte) (i * 13);
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 256, r, g, b));
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, z, 0, f.applyAsInt(z, x));
            }
        }
        return write(img, file);
    }

    static Path write(BufferedImage img, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            String name = file.getFileName().toString().toLowerCase();
            String format = name.endsWith(".jpg") || name.endsWith(".jpeg") ? "jpg" : "png";
            if (!ImageIO.write(img, format, file.toFile())) {
                throw new IllegalStateException("no writer for " + format);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Keeps the first {@code fraction} of the file's bytes. */
    static Path truncate(Path file, double fraction) {
        try {
            byte[] b = Files.readAllBytes(file);
            Files.write(file, java.util.Arrays.copyOf(b, (int) (b.length * fraction)));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
