package org.densecl.seg;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.io.LoadReport;
import org.densecl.io.SafeTensors;
import org.densecl.io.StateDict;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.nn.Sgd;
import org.densecl.tensor.Tensor;

/**
 * Fine-tuning checkpoints, one safetensors file each, written atomically, with the model under mmseg's
 * whole-model names ("backbone." + torchvision keys, "decode_head.*", "auxiliary_head.*"), so a file is
 * also a state dict mmseg's segmentor would take and its backbone loads into a plain ResNet:
 * <ul>
 *   <li>a training checkpoint ({@link #save}, {@code last.safetensors}): the model plus each trainable
 *       parameter's SGD momentum as {@code optimizer.momentum.<model key>}; metadata {@link State}. With the
 *       (seed, iteration) pair the data stream and dropout are restored too, so a resumed run is exact;</li>
 *   <li>weights only ({@link #saveWeights}, {@code best.safetensors}): the model and the same metadata.</li>
 * </ul>
 * Both carry the run's effective config and augmentation as JSON, from which {@code ./densecl evaluate}
 * rebuilds the model and its input normalisation.
 */
public final class FinetuneCheckpoint {
    public static final String FORMAT = "densecl-finetune-checkpoint-1";
    public static final String WEIGHTS_FORMAT = "densecl-finetune-weights-1";
    public static final String BACKBONE_PREFIX = "backbone.";
    public static final String MOMENTUM_PREFIX = "optimizer.momentum.";

    /**
     * Metadata of a checkpoint: iterations completed, run seed, the --init argument, the best validation mIoU
     * so far (percent, NaN before the first validation) and its iteration, the effective config and
     * augmentation (JSON).
     */
    public record State(long iteration, long seed, String init, double bestMiou, long bestIteration,
                        String configJson, String augmentJson) {
        Map<String, String> metadata(String format) {
            Map<String, String> m = new LinkedHashMap<>(); // ordered: the same run writes the same bytes
            m.put("format", format);
            m.put("iteration", Long.toString(iteration));
            m.put("seed", Long.toString(seed));
            m.put("init", init);
            m.put("best_miou", Double.toString(bestMiou));
            m.put("best_iteration", Long.toString(bestIteration));
            m.put("config", configJson);
            m.put("augment", augmentJson);
            return m;
        }

        static State of(Path file, Map<String, String> m) {
            try {
                return new State(Long.parseLong(m.get("iteration")), Long.parseLong(m.get("seed")), need(file, m, "init"),
                        Double.parseDouble(m.get("best_miou")), Long.parseLong(m.get("best_iteration")),
                        need(file, m, "config"), need(file, m, "augment"));
            } catch (NumberFormatException | NullPointerException e) {
                throw new IllegalArgumentException(file + ": bad or missing iteration/seed/best_miou metadata ("
                        + e.getMessage() + "); not a checkpoint written by ./densecl finetune");
            }
        }
    }

    private FinetuneCheckpoint() {}

    /** The model's registries under their whole-model prefixes, backbone first (mmseg's order). */
    private static Map<String, Parameters> registries(Parameters backbone, Parameters heads) {
        Map<String, Parameters> r = new LinkedHashMap<>();
        r.put(BACKBONE_PREFIX, backbone);
        r.put("", heads);
        return r;
    }

    /** Writes the model, both optimisers' momentum buffers and {@code state} to {@code file}. */
    public static void save(Path file, SegmentationModel m, Sgd sgdBackbone, Sgd sgdHeads, Backend be, State state) {
        Map<String, Tensor> momentum = new LinkedHashMap<>();
        putMomentum(momentum, BACKBONE_PREFIX, m.backbone().parameters(), sgdBackbone);
        putMomentum(momentum, "", m.headParameters(), sgdHeads);
        StateDict.save(file, registries(m.backbone().parameters(), m.headParameters()), be, momentum,
                state.metadata(FORMAT));
    }

    /** Writes the model alone (no optimiser state) with {@code state} as metadata. */
    public static void saveWeights(Path file, SegmentationModel m, Backend be, State state) {
        StateDict.save(file, registries(m.backbone().parameters(), m.headParameters()), be, Map.of(),
                state.metadata(WEIGHTS_FORMAT));
    }

    private static void putMomentum(Map<String, Tensor> out, String prefix, Parameters params, Sgd sgd) {
        if (sgd.momentum() > 0) {
            for (Param p : params.trainable()) {
                out.put(MOMENTUM_PREFIX + prefix + p.name(), sgd.momentumBuffer(p.name()));
            }
        }
    }

    /** The metadata of a checkpoint or weights file written here; an error for any other file. */
    public static State read(Path file) {
        requireFile(file);
        try (SafeTensors sf = SafeTensors.open(file)) {
            Map<String, String> m = sf.metadata();
            String format = m.get("format");
            if (!FORMAT.equals(format) && !WEIGHTS_FORMAT.equals(format)) {
                throw new IllegalArgumentException(file + " is not a fine-tuning checkpoint (metadata format is "
                        + format + ", expected " + FORMAT + " or " + WEIGHTS_FORMAT + ")");
            }
            return State.of(file, m);
        }
    }

    /**
     * Restores a {@link #save}d checkpoint into the model and both optimisers and returns its state. Every
     * entry must be present (checked before anything is written); a shape mismatch is an error.
     */
    public static State resume(Path file, SegmentationModel m, Sgd sgdBackbone, Sgd sgdHeads, Backend be) {
        requireFile(file);
        Map<String, Tensor> momentum = new LinkedHashMap<>();
        putMomentum(momentum, BACKBONE_PREFIX, m.backbone().parameters(), sgdBackbone);
        putMomentum(momentum, "", m.headParameters(), sgdHeads);
        State state;
        try (SafeTensors sf = SafeTensors.open(file)) {
            if (!FORMAT.equals(sf.metadata().get("format"))) {
                throw new IllegalArgumentException("cannot resume from " + file + ": not a fine-tuning training"
                        + " checkpoint (metadata format " + sf.metadata().get("format") + ", expected " + FORMAT + ")");
            }
            state = State.of(file, sf.metadata());
            List<String> missing = new ArrayList<>();
            for (String k : m.stateDictKeys()) {
                if (!sf.contains(k)) {
                    missing.add(k);
                }
            }
            for (String k : momentum.keySet()) {
                if (!sf.contains(k)) {
                    missing.add(k);
                }
            }
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("cannot resume from " + file + ": " + missing.size()
                        + " entries missing, e.g. " + missing.getFirst() + " (a checkpoint of another model or config?)");
            }
        }
        loadModel(file, m.backbone().parameters(), m.headParameters(), be);
        try (SafeTensors sf = SafeTensors.open(file)) {
            for (Map.Entry<String, Tensor> e : momentum.entrySet()) {
                StateDict.readInto(sf, e.getKey(), e.getValue(), be);
            }
        }
        return state;
    }

    /**
     * Loads the model entries of {@code file} into a backbone registry (torchvision names) and a heads registry
     * (mmseg names); every key of both must be in the file (checked per registry after loading it, so on
     * that error the registries may be partly filled). Other entries (optimiser state, an auxiliary head the
     * registry does not declare) are ignored.
     */
    public static void loadModel(Path file, Parameters backbone, Parameters heads, Backend be) {
        requireFile(file);
        LoadReport b = StateDict.load(file, backbone, be, false, List.of(BACKBONE_PREFIX), false);
        LoadReport h = StateDict.load(file, heads, be, false, List.of(), false);
        if (!b.missing().isEmpty() || !h.missing().isEmpty()) {
            List<String> missing = new ArrayList<>();
            b.missing().forEach(k -> missing.add(BACKBONE_PREFIX + k));
            missing.addAll(h.missing());
            throw new IllegalArgumentException(file + " lacks " + missing.size() + " model entries, e.g. "
                    + missing.getFirst() + " (weights of another model?)");
        }
    }

    private static String need(Path file, Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException(file + ": metadata '" + key + "' is missing");
        }
        return v;
    }

    private static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("checkpoint " + file + " does not exist");
        }
    }
}
