package org.densecl.data.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A labeled segmentation set: (image, masks) pairs found by a layout, decoded on demand with a
 * {@link MaskMapping}. Layouts:
 * <ul>
 *   <li>mmsegmentation: {@code ROOT/img_dir/SPLIT/<stem>.{png,jpg,jpeg}} with
 *       {@code ROOT/ann_dir/SPLIT/<stem>.png} (sub-folders allowed; the pair shares the relative stem);</li>
 *   <li>BUSI: {@code name.png} beside {@code name_mask.png}, in any sub-folder; extra
 *       {@code name_mask_1.png}, {@code name_mask_2.png} ... are merged (per-pixel maximum class,
 *       i.e. OR for binary masks).</li>
 * </ul>
 * Problems are {@link IllegalArgumentException}s naming the file: an image without a mask, an empty
 * or missing folder, a mask of another size than its image, mask values outside the mapping, an
 * unreadable or truncated file.
 */
public final class SegDataset {
    /** One sample on disk: its name (relative stem), image file and one or more mask files. */
    public record Sample(String name, Path image, List<Path> masks) {}

    /** A decoded sample. */
    public record Item(String name, GrayImage image, LabelImage labels) {}

    private static final Pattern BUSI_MASK = Pattern.compile("(?i)(.*)_mask(?:_(\\d+))?\\.png");

    private final String description;
    private final List<Sample> samples;
    private final MaskMapping mapping;

    private SegDataset(String description, List<Sample> samples, MaskMapping mapping) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no images in " + description);
        }
        this.description = description;
        this.samples = List.copyOf(samples);
        this.mapping = mapping;
    }

    /** The mmsegmentation layout, one split (train, val, test ...). */
    public static SegDataset mmseg(Path root, String split, MaskMapping mapping) {
        Path imgDir = root.resolve("img_dir").resolve(split), annDir = root.resolve("ann_dir").resolve(split);
        if (!Files.isDirectory(imgDir)) {
            throw new IllegalArgumentException("not an mmsegmentation layout: " + imgDir + " is missing");
        }
        List<Sample> out = new ArrayList<>();
        for (Path img : ImageFolder.listImages(imgDir)) {
            String rel = imgDir.relativize(img).toString();
            String stem = rel.substring(0, rel.lastIndexOf('.'));
            Path mask = annDir.resolve(stem + ".png");
            if (!Files.isRegularFile(mask)) {
                throw new IllegalArgumentException("image " + img + " has no mask: expected " + mask);
            }
            out.add(new Sample(stem, img, List.of(mask)));
        }
        return new SegDataset("mmsegmentation set " + imgDir, out, mapping);
    }

    /** The BUSI layout (name.png + name_mask.png [+ name_mask_1.png ...]) under root. */
    public static SegDataset busi(Path root, MaskMapping mapping) {
        Map<Path, Path> images = new TreeMap<>();             // stem path -> image
        Map<Path, TreeMap<Integer, Path>> masks = new TreeMap<>(); // stem path -> masks by number
        for (Path p : ImageFolder.listImages(root)) {
            String name = p.getFileName().toString();
            Matcher m = BUSI_MASK.matcher(name);
            if (m.matches()) {
                int n = m.group(2) == null ? 0 : Integer.parseInt(m.group(2)) + 1;
                masks.computeIfAbsent(p.resolveSibling(m.group(1)), k -> new TreeMap<>()).put(n, p);
            } else if (name.toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
                images.put(p.resolveSibling(name.substring(0, name.length() - 4)), p);
            }
        }
        List<Sample> out = new ArrayList<>();
        for (var e : images.entrySet()) {
            TreeMap<Integer, Path> m = masks.remove(e.getKey());
            if (m == null || !m.containsKey(0)) {
                throw new IllegalArgumentException("image " + e.getValue() + " has no mask: expected "
                        + e.getKey().resolveSibling(e.getKey().getFileName() + "_mask.png"));
            }
            out.add(new Sample(root.relativize(e.getKey()).toString(), e.getValue(), List.copyOf(m.values())));
        }
        if (!masks.isEmpty()) {
            Path orphan = masks.values().iterator().next().firstEntry().getValue();
            throw new IllegalArgumentException("mask " + orphan + " has no image (expected "
                    + masks.keySet().iterator().next() + ".png)");
        }
        return new SegDataset("BUSI-style set " + root, out, mapping);
    }

    public int size() {
        return samples.size();
    }

    public Sample sample(int i) {
        return samples.get(i);
    }

    public MaskMapping mapping() {
        return mapping;
    }

    /** The samples at {@code indices} (in that order), decoded with the same mapping. */
    public SegDataset subset(int[] indices, String why) {
        List<Sample> out = new ArrayList<>(indices.length);
        for (int i : indices) {
            if (i < 0 || i >= samples.size()) {
                throw new IllegalArgumentException("subset index " + i + " outside the " + samples.size() + " images of "
                        + description);
            }
            out.add(samples.get(i));
        }
        return new SegDataset(description + ", " + why, out, mapping);
    }

    /** Decodes sample i and checks it: sizes agree, every mask value is in the mapping. */
    public Item load(int i) {
        Sample s = samples.get(i);
        GrayImage img = ImageDecoder.readImage(s.image());
        LabelImage merged = null;
        for (Path maskFile : s.masks()) {
            ImageDecoder.Values v = ImageDecoder.readValues(maskFile);
            if (v.height() != img.height() || v.width() != img.width()) {
                throw new IllegalArgumentException("mask " + maskFile + " is " + v.width() + "x" + v.height()
                        + " but its image " + s.image() + " is " + img.width() + "x" + img.height());
            }
            LabelImage l = mapping.apply(v, maskFile);
            if (merged == null) {
                merged = l;
            } else {
                byte[] a = merged.labels(), b = l.labels();
                for (int p = 0; p < a.length; p++) {
                    a[p] = (byte) Math.max(a[p] & 0xff, b[p] & 0xff);
                }
            }
        }
        return new Item(s.name(), img, merged);
    }

    @Override
    public String toString() {
        return description + " (" + samples.size() + " images, masks " + mapping + ")";
    }
}
