package org.densecl.backend.cuda;

import java.util.Locale;

/** Byte counts as people read them in messages: "512 B", "3.0 MiB", "1.50 GiB". */
final class DeviceBytes {
    private DeviceBytes() {}

    static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1L << 30) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
