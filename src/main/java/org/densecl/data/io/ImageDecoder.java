package org.densecl.data.io;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG and JPEG files with javax.imageio, strictly: a file that is not an image, is cut short
 * or decodes with a warning (a truncated JPEG decodes "successfully" with a warning in ImageIO) is an
 * {@link IllegalArgumentException} naming the file. Images: 8- or 16-bit, gray, gray+alpha, RGB(A)
 * or palette, to {@link GrayImage} in [0, 1]. Masks: the stored integer values ({@link #readValues}),
 * palette indices for palette PNGs (how mmsegmentation stores class maps).
 */
public final class ImageDecoder {
    static {
        ImageIO.setUseCache(false);
    }

    private ImageDecoder() {}

    /** Raw integer values of a mask: (height, width) row-major. */
    public record Values(int height, int width, int[] values) {}

    public static GrayImage readImage(Path file) {
        BufferedImage img = decode(file);
        int h = img.getHeight(), w = img.getWidth();
        float[] out = new float[h * w];
        Raster r = img.getRaster();
        int bands = r.getNumBands();
        if (img.getColorModel() instanceof IndexColorModel icm) {
            int[] idx = r.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < idx.length; i++) {
                int rgb = icm.getRGB(idx[i]);
                out[i] = luma((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff) / 255f;
            }
            return new GrayImage(h, w, out);
        }
        float scale = 1f / maxValue(r, file);
        int colour = img.getColorModel().getNumColorComponents();
        if (colour == 1) {
            r.getSamples(0, 0, w, h, 0, out);
            for (int i = 0; i < out.length; i++) {
                out[i] *= scale;
            }
        } else if (colour == 3 && bands >= 3) {
            float[] g = new float[h * w], b = new float[h * w];
            r.getSamples(0, 0, w, h, 0, out);
            r.getSamples(0, 0, w, h, 1, g);
            r.getSamples(0, 0, w, h, 2, b);
            for (int i = 0; i < out.length; i++) {
                out[i] = luma(out[i], g[i], b[i]) * scale;
            }
        } else {
            throw new IllegalArgumentException("unsupported image " + file + ": " + colour + " colour components");
        }
        return new GrayImage(h, w, out);
    }

    /**
     * The stored values of a mask. Gray and palette masks: the sample (palette index) itself. Colour
     * masks: the value when all colour channels agree, else their maximum (BUSI has a few RGB masks
     * whose foreground is set in one channel only).
     */
    public static Values readValues(Path file) {
        BufferedImage img = decode(file);
        int h = img.getHeight(), w = img.getWidth();
        Raster r = img.getRaster();
        int colour = img.getColorModel() instanceof IndexColorModel ? 1 : img.getColorModel().getNumColorComponents();
        int[] v = r.getSamples(0, 0, w, h, 0, (int[]) null);
        if (colour > 1) {
            for (int band = 1; band < Math.min(colour, r.getNumBands()); band++) {
                int[] other = r.getSamples(0, 0, w, h, band, (int[]) null);
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.max(v[i], other[i]);
                }
            }
        }
        return new Values(h, w, v);
    }

    /** Reads the whole file with a reader that turns warnings (truncation) into errors. */
    static BufferedImage decode(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("image not found: " + file);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new IllegalArgumentException("cannot open image " + file);
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IllegalArgumentException("not a PNG/JPEG image (unknown format): " + file);
            }
            ImageReader reader = readers.next();
            StringBuilder warnings = new StringBuilder();
            reader.addIIOReadWarningListener((source, warning) -> warnings.append(warnings.length() > 0 ? "; " : "").append(warning));
            try {
                reader.setInput(in, true, true);
                BufferedImage img = reader.read(0);
                if (warnings.length() > 0) {
                    throw new IllegalArgumentException("damaged image " + file + ": " + warnings);
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage() != null && iae.getMessage().contains(file.toString())) {
                throw iae;
            }
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new IllegalArgumentException("cannot decode image " + file + " (unreadable or truncated): " + why, e);
        }
    }

    private static float maxValue(Raster r, Path file) {
        int bits = r.getSampleModel().getSampleSize(0);
        if (bits <= 16 && (r.getDataBuffer().getDataType() == DataBuffer.TYPE_BYTE
                || r.getDataBuffer().getDataType() == DataBuffer.TYPE_USHORT)) {
            return (1 << bits) - 1; // 255 for 8-bit, 65535 for 16-bit, 1/3/15 for packed gray
        }
        throw new IllegalArgumentException("unsupported sample size " + bits + " bits in " + file);
    }

    private static float luma(float r, float g, float b) {
        return 0.299f * r + 0.587f * g + 0.114f * b; // ITU-R BT.601, as PIL's convert('L')
    }
}
