package org.densecl.data.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoding of every image kind the loaders accept, and the errors for damaged files. */
class ImageDecoderTest {
    @TempDir
    Path dir;

    @Test
    void gray8And16BitDecodeToUnitRange() {
        GrayImage a = ImageDecoder.readImage(TestImages.gray8(dir.resolve("a.png"), 5, 7, (z, x) -> z * 40 + x));
        assertEquals(5, a.height());
        assertEquals(7, a.width());
        assertEquals((3 * 40 + 6) / 255f, a.get(3, 6), 1e-6f);
        GrayImage b = ImageDecoder.readImage(TestImages.gray16(dir.resolve("b.png"), 3, 9, (z, x) -> z * 20000 + x * 100));
        assertEquals((2 * 20000 + 800) / 65535f, b.get(2, 8), 1e-6f);
    }

    @Test
    void colourAndPaletteImagesBecomeLuma() {
        GrayImage g = ImageDecoder.readImage(TestImages.rgb(dir.resolve("c.png"), 4, 4, false, (z, x) -> 0x808080));
        assertEquals(128 / 255f, g.get(1, 1), 1e-5f);
        GrayImage c = ImageDecoder.readImage(TestImages.rgb(dir.resolve("d.png"), 4, 4, true, (z, x) -> 0xff0000));
        assertEquals(0.299f, c.get(0, 0), 1e-5f); // BT.601 weight of red
        GrayImage p = ImageDecoder.readImage(TestImages.palette(dir.resolve("e.png"), 3, 3, (z, x) -> 10));
        // palette entry 10 is (245, 70, 130)
        assertEquals((0.299f * 245 + 0.587f * 70 + 0.114f * 130) / 255f, p.get(2, 2), 1e-5f);
    }

    @Test
    void jpegDecodesApproximately() {
        GrayImage j = ImageDecoder.readImage(TestImages.rgb(dir.resolve("f.JPG"), 16, 16, false, (z, x) -> 0x404040));
        // a flat block survives JPEG within a couple of levels
        assertEquals(64 / 255f, j.get(8, 8), 3 / 255f);
    }

    @Test
    void masksKeepStoredValues() {
        var v = ImageDecoder.readValues(TestImages.palette(dir.resolve("m.png"), 2, 3, (z, x) -> z * 3 + x));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, v.values(), "palette indices, not colours");
        var rgb = ImageDecoder.readValues(TestImages.rgb(dir.resolve("n.png"), 1, 2, false, (z, x) -> x == 0 ? 0 : 0x00ff00));
        assertArrayEquals(new int[] {0, 255}, rgb.values(), "colour mask: maximum over channels");
        var g16 = ImageDecoder.readValues(TestImages.gray16(dir.resolve("o.png"), 1, 2, (z, x) -> x * 1000));
        assertArrayEquals(new int[] {0, 1000}, g16.values());
    }

    @Test
    void truncatedPngIsAnErrorNamingTheFile() {
        Path f = TestImages.truncate(TestImages.gray8(dir.resolve("cut.png"), 64, 64, (z, x) -> (z * x) & 0xff), 0.5);
        var e = assertThrows(IllegalArgumentException.class, () -> ImageDecoder.readImage(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void truncatedJpegIsAnErrorNamingTheFile() {
        Path f = TestImages.truncate(TestImages.rgb(dir.resolve("cut.jpg"), 64, 64, false, (z, x) -> (z * 4) << 8 | x * 4), 0.6);
        var e = assertThrows(IllegalArgumentException.class, () -> ImageDecoder.readImage(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void notAnImageAndMissingFilesAreErrors() throws IOException {
        Path f = dir.resolve("text.png");
        Files.writeString(f, "this is not a PNG");
        var e = assertThrows(IllegalArgumentException.class, () -> ImageDecoder.readImage(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        Path empty = Files.createFile(dir.resolve("empty.png"));
        var e2 = assertThrows(IllegalArgumentException.class, () -> ImageDecoder.readImage(empty));
        assertTrue(e2.getMessage().contains(empty.toString()), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> ImageDecoder.readImage(dir.resolve("none.png")));
        assertTrue(e3.getMessage().contains("none.png"), e3.getMessage());
    }
}
