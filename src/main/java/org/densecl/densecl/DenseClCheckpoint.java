package org.densecl.densecl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.io.SafeTensors;
import org.densecl.io.StateDict;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.nn.Sgd;
import org.densecl.tensor.Tensor;

/**
 * A DenseCL training checkpoint: one safetensors file (written atomically by {@link StateDict#save}) that
 * resumes a run exactly. The query backbone is stored under plain torchvision names (so the file also
 * loads as a backbone state dict, the rest being unexpected keys); everything else under a prefix:
 * {@code neck_q.}, {@code encoder_k.0.} (key backbone, incl. BN buffers), {@code encoder_k.1.} (key neck),
 * {@code optimizer.momentum.} (+ {@code neck_q.}) for the SGD buffers, and {@code queue}, {@code queue2}
 * (K, D). Metadata: format, step, seed, config, and both queue pointers. The key encoder's BN counters
 * are not stored (train-mode BN never reads them).
 */
public final class DenseClCheckpoint {
    public static final String FORMAT = "densecl-pretrain-checkpoint-1";

    /** Steps completed, the run seed, the config JSON. */
    public record State(long step, long seed, String configJson) {}

    private DenseClCheckpoint() {}

    private static Map<String, Tensor> extras(DenseClModel m) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        put(t, "neck_q.", m.neckQueryParameters().all());
        put(t, "encoder_k.0.", m.backboneKey().parameters().all());
        put(t, "encoder_k.1.", m.neckKeyParameters().all());
        momentum(t, "optimizer.momentum.", m.backboneQuery().parameters(), m.sgdBackbone());
        momentum(t, "optimizer.momentum.neck_q.", m.neckQueryParameters(), m.sgdNeck());
        t.put("queue", m.queue().keys());
        t.put("queue2", m.queue2().keys());
        return t;
    }

    private static void put(Map<String, Tensor> t, String prefix, List<Param> params) {
        for (Param p : params) {
            t.put(prefix + p.name(), p.value());
        }
    }

    private static void momentum(Map<String, Tensor> t, String prefix, Parameters params, Sgd sgd) {
        if (sgd.momentum() > 0) {
            for (Param p : params.trainable()) {
                t.put(prefix + p.name(), sgd.momentumBuffer(p.name()));
            }
        }
    }

    public static void save(Path file, DenseClModel m, Backend be, State state) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(state.step()));
        meta.put("seed", Long.toString(state.seed()));
        meta.put("config", state.configJson());
        meta.put("queue_ptr", Integer.toString(m.queue().pointer()));
        meta.put("queue2_ptr", Integer.toString(m.queue2().pointer()));
        StateDict.save(file, m.backboneQuery().parameters(), be, extras(m), meta);
    }

    /** Restores everything {@link #save} wrote into {@code m}; every entry must be present with its shape. */
    public static State load(Path file, DenseClModel m, Backend be) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("checkpoint " + file + " does not exist");
        }
        Map<String, Tensor> extras = extras(m);
        State state;
        int ptr, ptr2;
        try (SafeTensors sf = SafeTensors.open(file)) {
            Map<String, String> md = sf.metadata();
            if (!FORMAT.equals(md.get("format"))) {
                throw new IllegalArgumentException(file + " is not a DenseCL pretraining checkpoint (format "
                        + md.get("format") + ", expected " + FORMAT + ")");
            }
            try {
                state = new State(Long.parseLong(md.get("step")), Long.parseLong(md.get("seed")), md.get("config"));
                ptr = Integer.parseInt(md.get("queue_ptr"));
                ptr2 = Integer.parseInt(md.get("queue2_ptr"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": bad step/seed/queue pointer metadata: " + e.getMessage());
            }
            List<String> names = new java.util.ArrayList<>(m.backboneQuery().parameters().keys());
            names.addAll(extras.keySet());
            for (String name : names) {
                if (!sf.contains(name)) {
                    throw new IllegalArgumentException("cannot resume from " + file + ": no entry '" + name
                            + "' (a checkpoint of another model or config?)");
                }
            }
            // The query backbone (every key checked present above; a shape mismatch throws).
            StateDict.load(file, m.backboneQuery().parameters(), be, false, List.of(), false);
            for (Map.Entry<String, Tensor> e : extras.entrySet()) {
                StateDict.readInto(sf, e.getKey(), e.getValue(), be);
            }
        }
        m.queue().setPointer(ptr);
        m.queue2().setPointer(ptr2);
        return state;
    }
}
