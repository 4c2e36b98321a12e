package org.densecl.data.io;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.nio.file.Path;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Writes 8-bit grayscale and RGB PNGs with javax.imageio, atomically ({@link AtomicFiles}). Keeps one
 * ImageIO writer (looking one up costs more than encoding a small image), so it is not thread-safe:
 * one per thread. {@code quality} is ImageIO's PNG compression quality: 1 = fastest deflate,
 * 0 = smallest file.
 */
public final class PngWriter {
    static {
        ImageIO.setUseCache(false); // no temp files: images are small, memory streams are faster
    }

    private final ImageWriter writer;
    private final ImageWriteParam param;

    public PngWriter(float quality) {
        var it = ImageIO.getImageWritersByFormatName("png");
        if (!it.hasNext()) {
            throw new IllegalStateException("no PNG writer in javax.imageio");
        }
        writer = it.next();
        param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(quality);
    }

    /** Gray image, row-major (height, width). */
    public void writeGray(Path file, byte[] pixels, int height, int width) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(pixels, 0, dst, 0, height * width);
        write(file, img);
    }

    /** RGB image, row-major (height, width), packed 0xRRGGBB. */
    public void writeRgb(Path file, int[] rgb, int height, int width) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] dst = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(rgb, 0, dst, 0, height * width);
        write(file, img);
    }

    private void write(Path file, BufferedImage img) {
        AtomicFiles.write(file, out -> {
            try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                writer.setOutput(ios);
                writer.write(null, new IIOImage(img, null, null), param);
            } finally {
                writer.setOutput(null);
            }
        });
    }
}
