package org.densecl.seg;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.densecl.backend.Backend;
import org.densecl.data.YamlConfig;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.io.SafeTensorsException;

/**
 * A fine-tuning checkpoint (last.safetensors or best.safetensors) opened for inference: the model config and
 * input normalisation come from the config and augmentation JSON in its metadata, so whoever scores it (the
 * evaluate command, the experiment's overlays) rebuilds exactly the model that was trained.
 */
public final class FinetunedModel {
    private final Path checkpoint;
    private final FinetuneCheckpoint.State state;
    private final FinetuneConfig config;
    private final AugmentConfig.Segmentation normalization;

    private FinetunedModel(Path checkpoint, FinetuneCheckpoint.State state, FinetuneConfig config,
                           AugmentConfig.Segmentation normalization) {
        this.checkpoint = checkpoint;
        this.state = state;
        this.config = config;
        this.normalization = normalization;
    }

    /** Reads the checkpoint's metadata (the weights are read when a predictor is made). */
    public static FinetunedModel open(Path checkpoint) {
        FinetuneCheckpoint.State s;
        try {
            s = FinetuneCheckpoint.read(checkpoint);
        } catch (SafeTensorsException e) {
            throw new IllegalArgumentException(checkpoint + " is not a readable safetensors file: " + e.getMessage(), e);
        }
        JsonNode config = upgradeConfig(tree(checkpoint, s.configJson(), "config"));
        return new FinetunedModel(checkpoint, s, YamlConfig.convert(config, FinetuneConfig.class, checkpoint
                + " (metadata config)"), fromJson(checkpoint, s.augmentJson(), AugmentConfig.Segmentation.class, "augment"));
    }

    public Path checkpoint() {
        return checkpoint;
    }

    public FinetuneCheckpoint.State state() {
        return state;
    }

    public FinetuneConfig config() {
        return config;
    }

    /** The training pipeline's normalisation (mean, std, channels), which inference must repeat. */
    public AugmentConfig.Segmentation normalization() {
        return normalization;
    }

    /** An evaluator on {@code be} with the checkpoint's weights, in the checkpoint's eval.mode. */
    public SegEvaluator evaluator(Backend be) {
        return evaluator(be, config.eval());
    }

    /**
     * An evaluator on {@code be} with the checkpoint's weights, in {@code mode} (e.g. the checkpoint's eval
     * section with evaluate's --mode, --crop, --stride): the first input size met declares the weights and
     * loads them, other sizes share them.
     */
    public SegEvaluator evaluator(Backend be, FinetuneConfig.Eval mode) {
        int k = config.model().numClasses();
        SegmentationPredictor[] base = new SegmentationPredictor[1];
        return new SegEvaluator((h, w) -> {
            if (base[0] == null) {
                base[0] = SegmentationPredictor.standalone(be, config.model().segmentation(), k, h, w);
                FinetuneCheckpoint.loadModel(checkpoint, base[0].backboneParameters(), base[0].headParameters(), be);
                return base[0];
            }
            return base[0].resized(h, w);
        }, k, normalization, mode);
    }

    /**
     * The config of a checkpoint written before eval.crop and eval.stride existed, when eval.mode could only be
     * 'whole': crop and stride play no part in that mode, so they are filled with data.crop (one window per
     * crop) to keep such checkpoints readable; any other missing key stays an error.
     */
    private static JsonNode upgradeConfig(JsonNode config) {
        if (config.get("eval") instanceof ObjectNode eval && !eval.has("crop") && !eval.has("stride")
                && config.path("data").path("crop").isInt()) {
            int crop = config.get("data").get("crop").asInt();
            eval.set("crop", eval.arrayNode().add(crop).add(crop));
            eval.set("stride", eval.arrayNode().add(crop).add(crop));
        }
        return config;
    }

    private static <T> T fromJson(Path checkpoint, String json, Class<T> type, String key) {
        return YamlConfig.convert(tree(checkpoint, json, key), type, checkpoint + " (metadata " + key + ")");
    }

    private static JsonNode tree(Path checkpoint, String json, String key) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(checkpoint + ": metadata " + key + " is not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
