package org.densecl.io;

import java.util.List;

/**
 * What {@link StateDict#load} did.
 *
 * @param loaded      model keys filled from the file (after prefix stripping)
 * @param missing     model keys the file lacks (left untouched; non-strict loads only)
 * @param unexpected  file keys (as stored, before stripping) that name nothing in the model
 * @param stemSummed  model keys filled by summing a 3-channel stem over its input channels
 */
public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected,
                         List<String> stemSummed) {
    public LoadReport {
        loaded = List.copyOf(loaded);
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        stemSummed = List.copyOf(stemSummed);
    }

    @Override
    public String toString() {
        return loaded.size() + " loaded, " + missing.size() + " missing " + StateDict.preview(missing) + ", "
                + unexpected.size() + " unexpected " + StateDict.preview(unexpected)
                + (stemSummed.isEmpty() ? "" : ", stem summed over input channels: " + stemSummed);
    }
}
