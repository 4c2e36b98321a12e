package org.densecl.data.io;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * How stored mask values become classes: an explicit table (value -> class index or
 * {@link LabelImage#IGNORE}), or a threshold (value >= t -> 1, else 0) for masks saved through a
 * lossy path (JPEG masks). A value the table does not list is an error naming the file and the
 * values, never a silent background. Written as text: {@code "0:0,255:1"}, {@code "0:0,1:1,255:ignore"}
 * or {@code "threshold:128"}.
 */
public final class MaskMapping {
    private static final int MAX_VALUE = 65535;
    private final int[] table;      // (65536) class per stored value, -1 = not allowed
    private final int threshold;    // > 0: threshold mode
    private final String text;

    private MaskMapping(int[] table, int threshold, String text) {
        this.table = table;
        this.threshold = threshold;
        this.text = text;
    }

    /** mmsegmentation: values 0..classes-1 are classes, 255 is ignored. */
    public static MaskMapping classes(int classes) {
        if (classes < 1 || classes > 255) {
            throw new IllegalArgumentException("number of classes must be in [1, 255], got " + classes);
        }
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < classes; c++) {
            sb.append(c).append(':').append(c).append(',');
        }
        return parse(sb.append("255:ignore").toString());
    }

    /** BUSI and most binary masks: 0 background, 255 foreground. */
    public static MaskMapping binary255() {
        return parse("0:0,255:1");
    }

    public static MaskMapping parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("threshold:")) {
            int t = parseInt(s.substring("threshold:".length()), spec);
            if (t < 1 || t > MAX_VALUE) {
                throw new IllegalArgumentException("mask mapping '" + spec + "': threshold must be in [1, 65535]");
            }
            return new MaskMapping(null, t, "threshold:" + t);
        }
        int[] table = new int[MAX_VALUE + 1];
        Arrays.fill(table, -1);
        TreeMap<Integer, Integer> pairs = new TreeMap<>();
        for (String part : s.split(",")) {
            String[] kv = part.split(":");
            if (kv.length != 2) {
                throw new IllegalArgumentException("mask mapping '" + spec + "': expected value:class pairs, got '" + part + "'");
            }
            int value = parseInt(kv[0], spec);
            int cls = kv[1].trim().equals("ignore") ? LabelImage.IGNORE : parseInt(kv[1], spec);
            if (value < 0 || value > MAX_VALUE || cls < 0 || cls > 255) {
                throw new IllegalArgumentException("mask mapping '" + spec + "': value must be in [0, 65535] and class in [0, 255]");
            }
            if (pairs.put(value, cls) != null) {
                throw new IllegalArgumentException("mask mapping '" + spec + "': value " + value + " mapped twice");
            }
            table[value] = cls;
        }
        String text = pairs.entrySet().stream().map(e -> e.getKey() + ":" + (e.getValue() == LabelImage.IGNORE ? "ignore" : e.getValue()))
                .collect(Collectors.joining(","));
        return new MaskMapping(table, 0, text);
    }

    /** Maps the stored values of {@code file}; values outside the mapping are an error. */
    public LabelImage apply(ImageDecoder.Values v, Path file) {
        int[] in = v.values();
        byte[] out = new byte[in.length];
        if (table == null) {
            for (int i = 0; i < in.length; i++) {
                out[i] = (byte) (in[i] >= threshold ? 1 : 0);
            }
            return new LabelImage(v.height(), v.width(), out);
        }
        java.util.TreeSet<Integer> bad = null;
        for (int i = 0; i < in.length; i++) {
            int value = in[i];
            int cls = value <= MAX_VALUE ? table[value] : -1;
            if (cls < 0) {
                if (bad == null) {
                    bad = new java.util.TreeSet<>();
                }
                bad.add(value);
                continue;
            }
            out[i] = (byte) cls;
        }
        if (bad != null) {
            String list = bad.stream().limit(10).map(String::valueOf).collect(Collectors.joining(", "));
            throw new IllegalArgumentException("mask " + file + " has values outside the mapping " + text + ": "
                    + list + (bad.size() > 10 ? " ..." : ""));
        }
        return new LabelImage(v.height(), v.width(), out);
    }

    @Override
    public String toString() {
        return text;
    }

    private static int parseInt(String s, String spec) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("mask mapping '" + spec + "': '" + s.trim() + "' is not a whole number");
        }
    }
}
