package org.densecl.io;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.densecl.backend.Backend;
import org.densecl.data.io.WriteHook;
import org.densecl.nn.BatchCounter;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Checkpoints as PyTorch state dicts in safetensors files: the keys are the registry's (torchvision's
 * names), conv weights are written OIHW (PyTorch's layout; KRSC in memory, transposed here both ways),
 * and each BN {@code num_batches_tracked} is an I64 scalar, so torchvision's
 * {@code resnet50().load_state_dict(file_tensors, strict=True)} accepts a file written here.
 *
 * <p>Loading maps keys and checks everything before it writes anything: a key is matched after removing
 * any chain of known wrapper prefixes ({@link #PREFIXES}: DataParallel's "module.", mmcv's "backbone.",
 * DenseCL/MoCo's query encoder "encoder_q.0."), so a DenseCL checkpoint's backbone loads into a plain
 * ResNet and the key encoder's entries show up as unexpected. Shape mismatches always fail; missing and
 * unexpected keys fail only in strict mode. All problems are reported in one message.
 */
public final class StateDict {
    /** Wrapper prefixes removed from file keys, repeatedly, in any order. */
    public static final List<String> PREFIXES = List.of("module.", "backbone.", "encoder_q.0.");

    private StateDict() {}

    /** Writes every parameter, buffer and counter of {@code params} (allocated on {@code be}) to {@code file}. */
    public static void save(Path file, Parameters params, Backend be, Map<String, String> metadata) {
        save(file, params, be, Map.of(), metadata);
    }

    /**
     * {@link #save(Path, Parameters, Backend, Map)} plus {@code extra} tensors (on {@code be}, our layout,
     * the registry's dtype) under their own names, converted like parameters (rank 4 KRSC to OIHW): a
     * training checkpoint's optimiser state. Names must not repeat registry keys.
     */
    public static void save(Path file, Parameters params, Backend be, Map<String, Tensor> extra,
                            Map<String, String> metadata) {
        save(file, Map.of("", params), be, extra, metadata);
    }

    /**
     * Several registries in one file, each one's keys (counters included) behind its prefix: a whole model
     * whose parts keep their own registries, e.g. mmseg's segmentor ("backbone." + torchvision keys, and the
     * heads' keys with prefix ""). Pass an ordered map: the order decides the file's bytes. {@code extra} as
     * in {@link #save(Path, Parameters, Backend, Map, Map)}, in the first registry's dtype. Names must not
     * repeat.
     */
    public static void save(Path file, Map<String, Parameters> registries, Backend be, Map<String, Tensor> extra,
                            Map<String, String> metadata) {
        save(file, registries, be, extra, metadata, WriteHook.NONE);
    }

    /** As {@link #save(Path, Map, Backend, Map, Map)}, the file's bytes going through {@code hook} (tests). */
    public static void save(Path file, Map<String, Parameters> registries, Backend be, Map<String, Tensor> extra,
                            Map<String, String> metadata, WriteHook hook) {
        if (registries.isEmpty()) {
            throw new IllegalArgumentException("StateDict.save: no registry to save");
        }
        for (Parameters params : registries.values()) {
            if (!params.allocated()) {
                throw new IllegalStateException("StateDict.save: the Parameters registry is not allocated");
            }
        }
        be.synchronize();
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, Long> counters = new LinkedHashMap<>();
            DType extraType = registries.values().iterator().next().dtype();
            for (Map.Entry<String, Parameters> r : registries.entrySet()) {
                for (Param p : r.getValue().all()) {
                    putNew(tensors, r.getKey() + p.name(), torchCopy(be, p.value(), r.getValue().dtype(), arena));
                }
                for (BatchCounter c : r.getValue().counters()) {
                    if (counters.put(r.getKey() + c.name(), c.get()) != null) {
                        throw new IllegalArgumentException("StateDict.save: two counters are named '" + r.getKey()
                                + c.name() + "'");
                    }
                }
            }
            for (Map.Entry<String, Tensor> e : extra.entrySet()) {
                putNew(tensors, e.getKey(), torchCopy(be, e.getValue(), extraType, arena));
            }
            SafeTensorsWriter.write(file, tensors, counters, metadata, hook);
        }
    }

    private static void putNew(Map<String, Tensor> tensors, String name, Tensor t) {
        if (tensors.put(name, t) != null) {
            throw new IllegalArgumentException("StateDict.save: two tensors are named '" + name + "'");
        }
    }

    /** {@link #load(Path, Parameters, Backend, boolean, List, boolean)} with {@link #PREFIXES} and stem summing. */
    public static LoadReport load(Path file, Parameters params, Backend be, boolean strict) {
        return load(file, params, be, strict, PREFIXES, true);
    }

    /**
     * Loads {@code file} into {@code params}. Throws IllegalArgumentException naming every problem, before
     * changing anything, on a shape or type mismatch, on two file keys that strip to the same name, and
     * (strict only) on missing or unexpected keys.
     *
     * @param prefixes wrapper prefixes to strip from file keys
     * @param sumStem  load a stem conv1.weight with several input channels into a 1-channel stem by
     *                 summing over the input channels (RGB-pretrained weights for grayscale input)
     */
    public static LoadReport load(Path file, Parameters params, Backend be, boolean strict, List<String> prefixes,
                                  boolean sumStem) {
        if (!params.allocated()) {
            throw new IllegalStateException("StateDict.load: the Parameters registry is not allocated");
        }
        try (SafeTensors sf = SafeTensors.open(file)) {
            List<String> problems = new ArrayList<>();
            Map<String, String> byKey = new LinkedHashMap<>(); // stripped key -> file key
            List<String> unexpected = new ArrayList<>();
            Set<String> modelKeys = Set.copyOf(params.keys());
            for (String name : sf.names()) {
                String key = strip(name, prefixes);
                String other = byKey.putIfAbsent(key, name);
                if (other != null) {
                    problems.add("file keys '" + other + "' and '" + name + "' both map to '" + key + "'");
                } else if (!modelKeys.contains(key)) {
                    unexpected.add(name);
                    byKey.remove(key);
                }
            }
            unexpected.sort(null); // file order is by element size: sorted names read better
            Map<String, BatchCounter> counters = params.counters().stream()
                    .collect(Collectors.toMap(BatchCounter::name, c -> c));
            List<String> missing = new ArrayList<>(), loaded = new ArrayList<>(), summed = new ArrayList<>();
            List<String> mismatched = new ArrayList<>();
            for (String key : params.keys()) {
                String name = byKey.get(key);
                if (name == null) {
                    missing.add(key);
                    continue;
                }
                SafeTensorEntry e = sf.entry(name);
                if (counters.containsKey(key)) {
                    if (e.dtype().isFloating() || e.numel() != 1) {
                        mismatched.add(key + ": file " + e.dtype() + " " + e.shape() + ", model an integer scalar");
                    }
                } else {
                    Shape want = TorchLayout.torchShape(params.get(key).shape());
                    if (!e.dtype().isFloating()) {
                        mismatched.add(key + ": file " + e.dtype() + " " + e.shape() + ", model floating " + want);
                    } else if (sumStem && isStem(key) && stemFolds(e.shape(), want)) {
                        summed.add(key);
                    } else if (!e.shape().equals(want)) {
                        mismatched.add(key + ": file " + e.shape() + ", model " + want + " (PyTorch layout)");
                    }
                }
                loaded.add(key);
            }
            if (!mismatched.isEmpty()) {
                problems.add(mismatched.size() + " shape/type mismatch" + (mismatched.size() == 1 ? "" : "es")
                        + " " + preview(mismatched));
            }
            if (strict && !missing.isEmpty()) {
                problems.add(missing.size() + " missing key" + (missing.size() == 1 ? "" : "s") + " "
                        + preview(missing));
            }
            if (strict && !unexpected.isEmpty()) {
                problems.add(unexpected.size() + " unexpected key" + (unexpected.size() == 1 ? "" : "s") + " "
                        + preview(unexpected));
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("cannot load " + file + (strict ? " (strict)" : "") + ": "
                        + String.join("; ", problems));
            }
            for (String key : loaded) {
                String name = byKey.get(key);
                BatchCounter c = counters.get(key);
                if (c != null) {
                    c.set(sf.ints(name)[0]);
                    continue;
                }
                Param p = params.get(key);
                double[] v = sf.doubles(name);
                if (summed.contains(key)) {
                    v = TorchLayout.sumInputChannels(v, sf.shape(name));
                }
                if (p.shape().rank() == 4) {
                    v = TorchLayout.oihwToKrsc(v, p.shape());
                }
                write(be, v, p.value());
            }
            return new LoadReport(loaded, missing, unexpected, summed);
        }
    }

    /** A host copy of {@code t} in PyTorch's layout (rank 4 KRSC becomes OIHW), in {@code dt}. */
    private static Tensor torchCopy(Backend be, Tensor t, DType dt, Arena arena) {
        double[] v = read(be, t);
        Shape shape = TorchLayout.torchShape(t.shape());
        if (t.shape().rank() == 4) {
            v = TorchLayout.krscToOihw(v, t.shape());
        }
        Tensor host = Tensor.wrap(dt, shape, arena.allocate(shape.numel() * dt.bytes(), 64));
        for (int i = 0; i < v.length; i++) {
            host.set(i, v[i]);
        }
        return host;
    }

    /**
     * Reads entry {@code name} of an open file (PyTorch layout) into {@code dst} (on {@code be}, our
     * layout): the counterpart of the {@code extra} tensors of {@link #save(Path, Parameters, Backend, Map,
     * Map)}. Throws IllegalArgumentException if the entry is absent, not floating or of another shape.
     */
    public static void readInto(SafeTensors sf, String name, Tensor dst, Backend be) {
        if (!sf.contains(name)) {
            throw new IllegalArgumentException(sf.file() + " has no tensor '" + name + "'");
        }
        SafeTensorEntry e = sf.entry(name);
        Shape want = TorchLayout.torchShape(dst.shape());
        if (!e.dtype().isFloating() || !e.shape().equals(want)) {
            throw new IllegalArgumentException(sf.file() + ": '" + name + "' is " + e.dtype() + " " + e.shape()
                    + " but a floating " + want + " (PyTorch layout) is needed");
        }
        double[] v = sf.doubles(name);
        if (dst.shape().rank() == 4) {
            v = TorchLayout.oihwToKrsc(v, dst.shape());
        }
        write(be, v, dst);
    }

    /** {@code key} without any chain of {@code prefixes} at its start. */
    static String strip(String key, List<String> prefixes) {
        boolean again = true;
        while (again) {
            again = false;
            for (String p : prefixes) {
                if (key.startsWith(p) && key.length() > p.length()) {
                    key = key.substring(p.length());
                    again = true;
                }
            }
        }
        return key;
    }

    /** The stem conv ("conv1.weight", possibly under a model prefix), not a block's conv1. */
    private static boolean isStem(String key) {
        return (key.equals("conv1.weight") || key.endsWith(".conv1.weight")) && !key.contains("layer");
    }

    /** A (O, I > 1, H, W) filter that sums onto (O, 1, H, W). */
    private static boolean stemFolds(Shape file, Shape want) {
        return file.rank() == 4 && want.rank() == 4 && want.dim(1) == 1 && file.dim(1) > 1
                && file.dim(0) == want.dim(0) && file.dim(2) == want.dim(2) && file.dim(3) == want.dim(3);
    }

    /** Up to 8 names, then how many more: keeps a message about a 320-key mismatch readable. */
    static String preview(List<String> names) {
        if (names.size() <= 8) {
            return names.toString();
        }
        return names.subList(0, 8).toString().replace("]", ", ... " + (names.size() - 8) + " more]");
    }

    private static double[] read(Backend be, Tensor t) {
        double[] v = new double[(int) t.numel()];
        if (t.isHost()) {
            for (int i = 0; i < v.length; i++) {
                v[i] = t.get(i);
            }
        } else {
            float[] f = new float[v.length];
            be.download(t, f);
            for (int i = 0; i < v.length; i++) {
                v[i] = f[i];
            }
        }
        return v;
    }

    private static void write(Backend be, double[] v, Tensor t) {
        if (t.isHost()) {
            for (int i = 0; i < v.length; i++) {
                t.set(i, v[i]);
            }
        } else {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            be.upload(f, t);
        }
    }
}
