package org.densecl.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.io.SafeTensors;
import org.densecl.io.StateDict;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.nn.Sgd;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A training checkpoint: one safetensors file that resumes a run exactly. It holds
 * <ul>
 *   <li>the model's parameters, buffers and BN counters under their torchvision names, in PyTorch's
 *       layout (written by {@link StateDict}, so the file also loads as a plain state dict: the optimiser
 *       entries show up as unexpected keys in a non-strict load);</li>
 *   <li>the SGD momentum buffers as {@code optimizer.momentum.<param name>}, same layout as the parameter;</li>
 *   <li>in {@code __metadata__}: {@code format}, {@code step} (steps completed), {@code seed} and
 *       {@code config} (the run's configuration as JSON).</li>
 * </ul>
 * There is no generator state to store: a trainer's randomness is a pure function of (seed, step)
 * ({@link org.densecl.data.Seeds#mix}), so the step and seed restore it. The file is written atomically
 * (temp file + rename, see {@link SafeTensors#write}); loading checks that every entry is present with the
 * right shape before it changes anything in memory.
 */
public final class Checkpoint {
    /** Name prefix of the momentum buffers. */
    public static final String MOMENTUM_PREFIX = "optimizer.momentum.";
    /** Value of the {@code format} metadata key; a file without it is not a training checkpoint. */
    public static final String FORMAT = "densecl-train-checkpoint-1";

    /** What a checkpoint carries besides tensors: steps completed, the run seed and the config JSON. */
    public record State(long step, long seed, String configJson) {
        public State {
            if (step < 0) {
                throw new IllegalArgumentException("Checkpoint: step must be >= 0, not " + step);
            }
            configJson = configJson == null ? "{}" : configJson;
        }
    }

    private Checkpoint() {}

    /**
     * Writes {@code params} (allocated on {@code be}), the momentum buffers of {@code sgd} (null or
     * momentum 0: none) and {@code state} to {@code file}, atomically.
     */
    public static void save(Path file, Parameters params, Sgd sgd, Backend be, State state) {
        Map<String, Tensor> extra = new LinkedHashMap<>();
        if (hasMomentum(sgd)) {
            for (Param p : params.trainable()) {
                extra.put(MOMENTUM_PREFIX + p.name(), sgd.momentumBuffer(p.name()));
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(state.step()));
        meta.put("seed", Long.toString(state.seed()));
        meta.put("config", state.configJson());
        StateDict.save(file, params, be, extra, meta);
    }

    /**
     * Restores {@code params} and the momentum buffers of {@code sgd} from {@code file} and returns the
     * saved state. Every problem (not a checkpoint, missing or mis-shaped entries, a momentum mismatch) is
     * reported in one IllegalArgumentException before anything is written.
     */
    public static State load(Path file, Parameters params, Sgd sgd, Backend be) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("checkpoint " + file + " does not exist");
        }
        State state;
        List<String> momentumNames = new ArrayList<>();
        try (SafeTensors sf = SafeTensors.open(file)) {
            String format = sf.metadata().get("format");
            if (!FORMAT.equals(format)) {
                throw new IllegalArgumentException(file + " is not a training checkpoint (metadata format is "
                        + format + ", expected " + FORMAT + "); load plain weights with StateDict");
            }
            state = new State(parseLong(file, sf, "step"), parseLong(file, sf, "seed"), sf.metadata().get("config"));
            List<String> problems = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (String key : params.keys()) {
                if (!sf.contains(key)) {
                    missing.add(key);
                }
            }
            boolean fileHasMomentum = sf.names().stream().anyMatch(n -> n.startsWith(MOMENTUM_PREFIX));
            if (hasMomentum(sgd)) {
                for (Param p : params.trainable()) {
                    String name = MOMENTUM_PREFIX + p.name();
                    momentumNames.add(name);
                    if (!sf.contains(name)) {
                        missing.add(name);
                    }
                }
            } else if (fileHasMomentum) {
                problems.add("the file has momentum buffers but the optimiser has momentum 0");
            }
            if (!missing.isEmpty()) {
                problems.add(missing.size() + " missing entr" + (missing.size() == 1 ? "y " : "ies ")
                        + (missing.size() <= 8 ? missing : missing.subList(0, 8) + " ..."));
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("cannot resume from " + file + ": " + String.join("; ", problems));
            }
            // Shapes of the momentum buffers are checked up front too, so a failure changes nothing.
            for (String name : momentumNames) {
                Tensor buf = sgd.momentumBuffer(name.substring(MOMENTUM_PREFIX.length()));
                if (!sf.entry(name).shape().equals(torchShapeOf(params, name))) {
                    throw new IllegalArgumentException("cannot resume from " + file + ": '" + name + "' is "
                            + sf.entry(name).shape() + " but the parameter is " + buf.shape() + " (our layout)");
                }
            }
        }
        // Model entries: no prefixes, no stem folding, so only exact names load. Non-strict because the
        // optimiser entries are "unexpected" to a state dict; missing keys were refused above.
        StateDict.load(file, params, be, false, List.of(), false);
        try (SafeTensors sf = SafeTensors.open(file)) {
            for (String name : momentumNames) {
                StateDict.readInto(sf, name, sgd.momentumBuffer(name.substring(MOMENTUM_PREFIX.length())), be);
            }
        }
        return state;
    }

    private static boolean hasMomentum(Sgd sgd) {
        return sgd != null && sgd.momentum() > 0;
    }

    /** The PyTorch-layout shape of the parameter a momentum entry belongs to (what the file must hold). */
    private static Shape torchShapeOf(Parameters params, String momentumName) {
        Shape s = params.get(momentumName.substring(MOMENTUM_PREFIX.length())).shape();
        // KRSC (K, R, S, C) is stored OIHW (K, C, R, S); other ranks are stored as they are.
        return s.rank() == 4 ? Shape.of(s.dim(0), s.dim(3), s.dim(1), s.dim(2)) : s;
    }

    private static long parseLong(Path file, SafeTensors sf, String key) {
        String v = sf.metadata().get(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException(file + ": metadata '" + key + "' is " + v + ", not an integer");
        }
    }
}
