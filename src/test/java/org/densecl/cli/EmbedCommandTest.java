package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.io.SafeTensors;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code embed} end to end: a width-4 ResNet-18 with a classifier (which embed must ignore) saved to a
 * file, three 8-bit gray PNGs at the model size (so resizing is the identity), batch 2 (the last batch is
 * padded). Each row must equal a direct batch-1 evaluation forward + global average pool on the pixels
 * normalised by hand. Tolerance rtol 1e-5, atol 1e-6: the same float ops, but the cpu GEMM may block a
 * batch-2 convolution differently from a batch-1 one, so sums can round in another order (features are
 * O(1), a few hundred terms per dot product).
 */
class EmbedCommandTest {
    private static final ResNetConfig CFG = ResNetConfig.resnet(18).withWidth(4).withInChannels(1).withClassifier(5);
    private static final int SIZE = 40;
    private static final String[] NAMES = {"a.png", "b.png", "sub/c.png"};

    @TempDir
    Path dir;

    private final Backend be = new CpuBackend(2, "vector");
    private ResNet net;
    private Path weights, images;

    @AfterEach
    void close() {
        be.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        net = ResNet.create(be, CFG, DType.F32, 1, SIZE, SIZE);
        net.initialize(3);
        Tensor x = be.allocate(DType.F32, net.inputShape());
        for (int i = 0; i < 3; i++) { // move the running statistics off (0, 1) so eval mode is not trivial
            Rand.normal(x, 40 + i, 1.0);
            net.forward(x, true);
        }
        weights = dir.resolve("w.safetensors");
        StateDict.save(weights, net.parameters(), be, Map.of());
        images = dir.resolve("images");
        Files.createDirectories(images.resolve("sub"));
        for (int k = 0; k < NAMES.length; k++) {
            BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < SIZE; y++) {
                for (int xx = 0; xx < SIZE; xx++) {
                    img.getRaster().setSample(xx, y, 0, pixel(k, y, xx));
                }
            }
            ImageIO.write(img, "png", images.resolve(NAMES[k]).toFile());
        }
    }

    private static int pixel(int k, int y, int x) {
        return (x * (7 + k) + y * (3 + 2 * k) + k * 50 + (x * y) % 13) & 0xff;
    }

    private int run(String... args) {
        EmbedCommand cmd = new EmbedCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.call();
    }

    /** Direct forward of image k: pixels / 255, (v - 0.5) / 0.25, eval mode, pooled C5. */
    private float[] expected(int k) {
        Tensor x = be.allocate(DType.F32, net.inputShape()); // (1, 40, 40, 1)
        for (int y = 0; y < SIZE; y++) {
            for (int xx = 0; xx < SIZE; xx++) {
                x.setFloat(y * SIZE + xx, (pixel(k, y, xx) / 255f - 0.5f) / 0.25f);
            }
        }
        net.forward(x, false);
        Tensor pooled = be.allocate(DType.F32, Shape.of(1, net.c5().shape().last()));
        be.globalAvgPoolForward(net.c5().value(), pooled);
        float[] f = new float[(int) pooled.numel()];
        be.download(pooled, f);
        return f;
    }

    private void assertRow(int k, float[] got) {
        float[] want = expected(k);
        assertEquals(want.length, got.length, "embed row " + k + ": feature count (C5 channels)");
        for (int j = 0; j < want.length; j++) {
            assertTrue(Math.abs(got[j] - want[j]) <= 1e-6 + 1e-5 * Math.abs(want[j]),
                    "embed row " + NAMES[k] + " f" + j + ": got " + got[j] + ", direct forward " + want[j]);
        }
    }

    @Test
    void csvRowsEqualADirectForward() throws Exception {
        Path out = dir.resolve("out/features.csv");
        assertEquals(0, run("--weights", weights.toString(), "--images", images.toString(), "--out", out.toString(),
                "--arch", "resnet18", "--size", "" + SIZE, "--batch", "2", "--threads", "2",
                "--mean", "0.5", "--std", "0.25"));
        List<String> lines = Files.readAllLines(out);
        assertEquals(4, lines.size(), "header + 3 rows");
        String[] header = lines.get(0).split(",");
        assertEquals(1 + 32, header.length, "file + 32 C5 channels (8 * width 4)");
        assertEquals("file", header[0]);
        assertEquals("f31", header[32]);
        for (int k = 0; k < 3; k++) {
            String[] cells = lines.get(k + 1).split(",");
            assertEquals(NAMES[k], cells[0], "row " + k + " name");
            float[] got = new float[cells.length - 1];
            for (int j = 0; j < got.length; j++) {
                got[j] = Float.parseFloat(cells[j + 1]);
            }
            assertRow(k, got);
        }
    }

    @Test
    void safetensorsHoldsFeaturesAndNames() throws Exception {
        Path out = dir.resolve("features.safetensors");
        assertEquals(0, run("--weights", weights.toString(), "--images", images.toString(), "--out", out.toString(),
                "--arch", "resnet18", "--size", "" + SIZE, "--batch", "8", "--threads", "2",
                "--mean", "0.5", "--std", "0.25"));
        try (SafeTensors sf = SafeTensors.open(out)) {
            assertEquals(Shape.of(3, 32), sf.shape("features"));
            assertEquals(List.of(NAMES), new ObjectMapper().readValue(sf.metadata("names"), List.class));
            float[] all = sf.floats("features");
            for (int k = 0; k < 3; k++) {
                assertRow(k, java.util.Arrays.copyOfRange(all, k * 32, (k + 1) * 32));
            }
        }
    }

    @Test
    void badInputGivesOneClearError() throws Exception {
        Path out = dir.resolve("x.csv");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run("--weights",
                dir.resolve("missing.safetensors").toString(), "--images", images.toString(), "--out", out.toString()));
        assertTrue(e.getMessage().startsWith("weights file not found: "), e.getMessage());
        Path empty = Files.createDirectories(dir.resolve("empty"));
        e = assertThrows(IllegalArgumentException.class, () -> run("--weights", weights.toString(),
                "--images", empty.toString(), "--out", out.toString(), "--arch", "resnet18"));
        assertTrue(e.getMessage().startsWith("no PNG or JPEG images under "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run("--weights", weights.toString(),
                "--images", images.toString(), "--out", out.toString(), "--arch", "resnet50", "--size", "40"));
        assertTrue(e.getMessage().contains("does not fit --arch resnet50"), e.getMessage());
        assertTrue(!Files.exists(out), "no output after an error");
    }

    /** Colour PNGs keep their channels for a 3-channel model; gray PNGs are replicated. Exact: v / 255. */
    @Test
    void rgbAndGrayPlanesForThreeChannels() throws Exception {
        BufferedImage img = new BufferedImage(5, 3, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 5; x++) {
                img.setRGB(x, y, (10 * x + y) << 16 | (200 - x) << 8 | (7 * y));
            }
        }
        Path rgb = dir.resolve("rgb.png");
        ImageIO.write(img, "png", rgb.toFile());
        var planes = EmbedCommand.planes(rgb, 3);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 5; x++) {
                assertEquals((10 * x + y) / 255f, planes[0].get(y, x), "red at " + y + "," + x);
                assertEquals((200 - x) / 255f, planes[1].get(y, x), "green at " + y + "," + x);
                assertEquals(7 * y / 255f, planes[2].get(y, x), "blue at " + y + "," + x);
            }
        }
        var gray = EmbedCommand.planes(images.resolve("a.png"), 3);
        assertEquals(pixel(0, 2, 3) / 255f, gray[2].get(2, 3), "gray replicated to blue");
        assertEquals(gray[0], gray[1]);
    }

    @Test
    void registeredInMain() {
        assertTrue(new CommandLine(new Main()).getSubcommands().containsKey("embed"));
    }
}
