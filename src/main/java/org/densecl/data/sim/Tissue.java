package org.densecl.data.sim;

/**
 * The labels of the simulator's label map, in the order they are met going down a column of the
 * longitudinal suprapatellar view (gel at the probe, femoral bone at the bottom; the patella, where
 * present, replaces everything below its surface). The ordinal is the byte stored in the label map.
 * Only {@link #RECESS} becomes foreground (class 1) in a segmentation mask.
 */
public enum Tissue {
    GEL,
    SKIN,
    SUBCUT_FAT,
    TENDON,
    QUAD_FAT_PAD,
    MUSCLE,
    RECESS,
    PREFEMORAL_FAT,
    CORTEX,
    BONE,
    PATELLA;

    public static final int COUNT = values().length;

    private static final Tissue[] BY_ORDINAL = values();

    public static Tissue of(int ordinal) {
        return BY_ORDINAL[ordinal];
    }
}
