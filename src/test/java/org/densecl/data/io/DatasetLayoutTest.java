package org.densecl.data.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image folder, mmsegmentation and BUSI layouts, mask mappings, and the bad-data errors. */
class DatasetLayoutTest {
    @TempDir
    Path dir;

    @Test
    void imageFolderIsRecursiveSortedAndSkipsOtherFiles() throws IOException {
        TestImages.gray8(dir.resolve("b/x.PNG"), 4, 4, (z, x) -> 1);
        TestImages.gray16(dir.resolve("a.png"), 4, 4, (z, x) -> 1);
        TestImages.rgb(dir.resolve("b/c/y.jpeg"), 8, 8, false, (z, x) -> 0);
        TestImages.gray8(dir.resolve(".hidden/z.png"), 4, 4, (z, x) -> 1);
        Files.writeString(dir.resolve("manifest.json"), "{}");
        ImageFolder f = new ImageFolder(dir);
        assertEquals(3, f.size());
        assertEquals(List.of(dir.resolve("a.png"), dir.resolve("b/c/y.jpeg"), dir.resolve("b/x.PNG")),
                List.of(f.file(0), f.file(1), f.file(2)));
        assertEquals(8, f.load(1).height());
    }

    @Test
    void emptyOrMissingFoldersAreErrors() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Files.writeString(empty.resolve("notes.txt"), "no images");
        var e = assertThrows(IllegalArgumentException.class, () -> new ImageFolder(empty));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ImageFolder(dir.resolve("missing")));
        var e2 = assertThrows(IllegalArgumentException.class, () -> SegDataset.mmseg(dir, "train", MaskMapping.classes(2)));
        assertTrue(e2.getMessage().contains("img_dir"), e2.getMessage());
        Files.createDirectories(dir.resolve("img_dir/val"));
        var e3 = assertThrows(IllegalArgumentException.class, () -> SegDataset.mmseg(dir, "val", MaskMapping.classes(2)));
        assertTrue(e3.getMessage().contains("no images"), e3.getMessage());
    }

    @Test
    void mmsegPairsImagesAndMasksByStem() {
        TestImages.gray8(dir.resolve("img_dir/train/s1.png"), 3, 4, (z, x) -> 100);
        TestImages.rgb(dir.resolve("img_dir/train/sub/s2.jpg"), 3, 4, false, (z, x) -> 0x101010);
        TestImages.gray8(dir.resolve("ann_dir/train/s1.png"), 3, 4, (z, x) -> x == 0 ? 255 : x % 2);
        TestImages.palette(dir.resolve("ann_dir/train/sub/s2.png"), 3, 4, (z, x) -> z == 1 ? 1 : 0);
        SegDataset d = SegDataset.mmseg(dir, "train", MaskMapping.classes(2));
        assertEquals(2, d.size());
        SegDataset.Item a = d.load(0);
        assertEquals("s1", a.name());
        assertArrayEquals(new byte[] {(byte) 255, 1, 0, 1}, java.util.Arrays.copyOf(a.labels().labels(), 4), "255 stays ignore");
        SegDataset.Item b = d.load(1);
        assertEquals("sub/s2", b.name());
        assertEquals(1, b.labels().get(1, 2));
        assertEquals(0, b.labels().get(0, 2));
    }

    @Test
    void mmsegImageWithoutMaskIsAnError() {
        TestImages.gray8(dir.resolve("img_dir/train/lonely.png"), 3, 3, (z, x) -> 0);
        Files.exists(dir);
        var e = assertThrows(IllegalArgumentException.class, () -> SegDataset.mmseg(dir, "train", MaskMapping.classes(2)));
        assertTrue(e.getMessage().contains("lonely.png") && e.getMessage().contains("no mask"), e.getMessage());
    }

    @Test
    void maskOfAnotherSizeIsAnError() {
        TestImages.gray8(dir.resolve("img_dir/val/a.png"), 8, 8, (z, x) -> 0);
        Path mask = TestImages.gray8(dir.resolve("ann_dir/val/a.png"), 8, 7, (z, x) -> 0);
        SegDataset d = SegDataset.mmseg(dir, "val", MaskMapping.classes(2));
        var e = assertThrows(IllegalArgumentException.class, () -> d.load(0));
        assertTrue(e.getMessage().contains(mask.toString()) && e.getMessage().contains("7x8"), e.getMessage());
    }

    @Test
    void maskValuesOutsideTheMappingAreAnError() {
        TestImages.gray8(dir.resolve("img_dir/val/a.png"), 4, 4, (z, x) -> 0);
        Path mask = TestImages.gray8(dir.resolve("ann_dir/val/a.png"), 4, 4, (z, x) -> x == 3 ? 7 : x == 2 ? 128 : 0);
        SegDataset d = SegDataset.mmseg(dir, "val", MaskMapping.classes(2));
        var e = assertThrows(IllegalArgumentException.class, () -> d.load(0));
        assertTrue(e.getMessage().contains(mask.toString()) && e.getMessage().contains("7, 128"), e.getMessage());
    }

    @Test
    void busiMergesExtraMasksAndMaps255ToOne() {
        Path folder = dir.resolve("Dataset_BUSI_with_GT/benign");
        TestImages.rgb(folder.resolve("benign (1).png"), 4, 4, false, (z, x) -> 0x202020);
        TestImages.gray8(folder.resolve("benign (1)_mask.png"), 4, 4, (z, x) -> z == 0 ? 255 : 0);
        TestImages.gray8(folder.resolve("benign (1)_mask_1.png"), 4, 4, (z, x) -> x == 0 ? 255 : 0);
        TestImages.rgb(folder.resolve("benign (2).png"), 4, 4, false, (z, x) -> 0);
        TestImages.rgb(folder.resolve("benign (2)_mask.png"), 4, 4, false, (z, x) -> z == 3 ? 0xff0000 : 0);
        SegDataset d = SegDataset.busi(dir, MaskMapping.binary255());
        assertEquals(2, d.size());
        assertEquals(List.of("benign (1)_mask.png", "benign (1)_mask_1.png"),
                d.sample(0).masks().stream().map(p -> p.getFileName().toString()).toList());
        LabelImage l = d.load(0).labels();
        for (int z = 0; z < 4; z++) {
            for (int x = 0; x < 4; x++) {
                assertEquals(z == 0 || x == 0 ? 1 : 0, l.get(z, x), "OR of both masks at " + z + "," + x);
            }
        }
        assertEquals(1, d.load(1).labels().get(3, 1), "RGB mask with the foreground in one channel");
    }

    @Test
    void busiImageWithoutMaskOrMaskWithoutImageIsAnError() {
        TestImages.gray8(dir.resolve("malignant (3).png"), 4, 4, (z, x) -> 0);
        var e = assertThrows(IllegalArgumentException.class, () -> SegDataset.busi(dir, MaskMapping.binary255()));
        assertTrue(e.getMessage().contains("malignant (3).png") && e.getMessage().contains("no mask"), e.getMessage());
        TestImages.gray8(dir.resolve("malignant (3)_mask.png"), 4, 4, (z, x) -> 0);
        TestImages.gray8(dir.resolve("normal (9)_mask.png"), 4, 4, (z, x) -> 0);
        var e2 = assertThrows(IllegalArgumentException.class, () -> SegDataset.busi(dir, MaskMapping.binary255()));
        assertTrue(e2.getMessage().contains("normal (9)_mask.png"), e2.getMessage());
    }

    @Test
    void aSimulatedRunLoadsAsAnMmsegSet() {
        var cfg = org.densecl.data.sim.SimulatorConfig.load(Path.of(org.densecl.data.sim.SimulatorConfig.DEFAULT_PATH), List.of());
        var quiet = new org.densecl.data.Progress(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), "t", 12, false);
        org.densecl.data.sim.SimulationRun.run(cfg, "test", new org.densecl.data.sim.SimulationRun.Options(dir, 12, 40, 5, true, 2), quiet);
        var sim = new org.densecl.data.sim.KneeSimulator(cfg);
        int total = 0;
        for (String split : org.densecl.data.sim.SimulationRun.SPLITS) {
            if (!Files.isDirectory(dir.resolve("img_dir").resolve(split))) {
                continue;
            }
            SegDataset d = SegDataset.mmseg(dir, split, MaskMapping.classes(2));
            for (int i = 0; i < d.size(); i++) {
                SegDataset.Item item = d.load(i);
                int index = Integer.parseInt(item.name().substring(4));
                var img = sim.generate(5, index, 40);
                assertArrayEquals(img.mask(new byte[40 * 40]), item.labels().labels(), item.name());
                assertEquals((img.gray[41] & 0xff) / 255f, item.image().pixels()[41], 1e-6f);
                total++;
            }
        }
        assertEquals(12, total);
        assertEquals(12, new ImageFolder(dir.resolve("img_dir")).size());
    }

    @Test
    void mappingsParseAndThreshold() {
        assertEquals("0:0,128:ignore,255:1", MaskMapping.parse("255:1, 0:0, 128:ignore").toString());
        assertThrows(IllegalArgumentException.class, () -> MaskMapping.parse("0:0,0:1"));
        assertThrows(IllegalArgumentException.class, () -> MaskMapping.parse("0-1"));
        assertThrows(IllegalArgumentException.class, () -> MaskMapping.parse("0:300"));
        MaskMapping t = MaskMapping.parse("threshold:128");
        LabelImage l = t.apply(new ImageDecoder.Values(1, 4, new int[] {0, 127, 128, 255}), dir.resolve("m.jpg"));
        assertArrayEquals(new byte[] {0, 0, 1, 1}, l.labels());
    }
}
