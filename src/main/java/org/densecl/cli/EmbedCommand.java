package org.densecl.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.data.Progress;
import org.densecl.data.augment.Resample;
import org.densecl.data.io.AtomicFiles;
import org.densecl.data.io.GrayImage;
import org.densecl.data.io.ImageDecoder;
import org.densecl.data.io.ImageFolder;
import org.densecl.io.LoadReport;
import org.densecl.io.SafeTensors;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl embed}: one feature vector per image from a pretrained backbone, for retrieval,
 * clustering or a linear probe. The backbone's depth comes from {@code --arch}; its stem width and input
 * channels are read from the weights file's {@code conv1.weight}, so reduced-width models load too.
 * The file is loaded non-strictly (an fc and DenseCL's key encoder and heads are ignored, wrapper prefixes
 * "module.", "backbone.", "encoder_q.0." stripped), but every backbone key must be present.
 *
 * <p>Each image is decoded (PNG/JPEG, gray or colour), resized to size x size (PIL-style bilinear, as
 * the training pipeline does), normalised per channel, and run through the backbone in evaluation mode;
 * the row is C5 averaged over space (torchvision's avgpool output, before any fc).
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Write globally pooled C5 features of a ResNet backbone, one row per image.",
                "CSV: header file,f0,f1,... . Safetensors: 'features' (N, C) F32, file names in metadata 'names' (JSON list).",
                "Rows follow the sorted file list; names are relative to --images.",
                "Default normalisation: 3 channels, ImageNet mean 0.485,0.456,0.406 and std 0.229,0.224,0.225; "
                        + "1 channel, their averages 0.449 and 0.226 (what an RGB-pretrained stem summed over its "
                        + "inputs expects of a gray image)."})
public final class EmbedCommand implements Callable<Integer> {
    static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    static final float GRAY_MEAN = 0.449f, GRAY_STD = 0.226f;

    @Option(names = "--weights", paramLabel = "FILE", required = true, description = "backbone weights (safetensors)")
    Path weights;

    @Option(names = "--images", paramLabel = "DIR", required = true, description = "folder of PNG/JPEG images (searched recursively)")
    Path images;

    @Option(names = {"--output", "--out"}, paramLabel = "FILE", required = true,
            description = "output file (.csv or .safetensors; --out: the former name)")
    Path out;

    @Option(names = "--arch", paramLabel = "NAME", defaultValue = "resnet50",
            description = "resnet18, resnet34, resnet50, resnet101 or resnet152 (default ${DEFAULT-VALUE})")
    String arch;

    @Option(names = "--size", paramLabel = "PX", defaultValue = "224", description = "input height and width (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--mean", paramLabel = "M", split = ",", description = "per-channel mean of [0, 1] pixels (1 or C values)")
    float[] mean;

    @Option(names = "--std", paramLabel = "S", split = ",", description = "per-channel std (1 or C values)")
    float[] std;

    @Option(names = "--channels", paramLabel = "auto|1|3", defaultValue = "auto",
            description = "input channels; auto: as the weights' stem (default ${DEFAULT-VALUE})")
    String channels;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "images per forward (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu", description = "ref, cpu or cuda (cuda:fp32 strict, cuda:bf16; default ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "cpu backend threads (0: all cores)")
    int threads;

    @Option(names = "--format", paramLabel = "csv|safetensors", defaultValue = "auto",
            description = "output format; auto: from the --output extension, csv otherwise (default ${DEFAULT-VALUE})")
    String format;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("weights file not found: " + weights);
        }
        if (size < 32 || batch < 1) {
            throw new IllegalArgumentException("--size must be >= 32 and --batch >= 1, got " + size + " and " + batch);
        }
        boolean safetensors = switch (format.toLowerCase(Locale.ROOT)) {
            case "csv" -> false;
            case "safetensors" -> true;
            case "auto" -> out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors");
            default -> throw new IllegalArgumentException("--format must be csv, safetensors or auto, not " + format);
        };
        ImageFolder folder = new ImageFolder(images); // throws for a missing or image-less folder
        int[] stem = stemShape(weights);              // (width, input channels) of the file's conv1
        int c = switch (channels) {
            case "auto" -> stem[1];
            case "1" -> 1;
            case "3" -> 3;
            default -> throw new IllegalArgumentException("--channels must be auto, 1 or 3, not " + channels);
        };
        float[] m = perChannel("--mean", mean, c == 3 ? IMAGENET_MEAN : new float[] {GRAY_MEAN}, c);
        float[] s = perChannel("--std", std, c == 3 ? IMAGENET_STD : new float[] {GRAY_STD}, c);
        for (float v : s) {
            if (!(v > 0)) {
                throw new IllegalArgumentException("--std values must be > 0, got " + v);
            }
        }
        ResNetConfig cfg = ResNetConfig.resnet(depth(arch)).withWidth(stem[0]).withInChannels(c);
        int n = folder.size(), b = Math.min(batch, n);
        float[][] rows;
        try (Backend be = Backends.open(backend, threads, "vector")) {
            Parameters params = new Parameters(DType.F32);
            Activations acts = new Activations(DType.F32, true);
            ResNet net = new ResNet(be, cfg, params, acts, "", b, size, size);
            params.allocate(be);
            acts.allocate(be);
            String fit = weights + " does not fit --arch " + arch + " with stem width " + stem[0] + " and "
                    + c + " input channel" + (c == 1 ? "" : "s");
            LoadReport report;
            try {
                report = StateDict.load(weights, params, be, false);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(fit + ": " + e.getMessage(), e);
            }
            if (!report.missing().isEmpty()) {
                throw new IllegalArgumentException(fit + ": " + report.missing().size() + " backbone keys missing, e.g. "
                        + report.missing().subList(0, Math.min(4, report.missing().size())));
            }
            System.err.printf(Locale.ROOT, "embed: %s width %d, %d-channel input %dx%d, %d images, %s backend%s%n",
                    arch, stem[0], c, size, size, n, be.name(),
                    report.unexpected().isEmpty() ? "" : " (" + report.unexpected().size() + " file keys ignored)");
            rows = embed(be, net, folder, c, m, s, b);
        }
        List<String> names = names(folder);
        if (safetensors) {
            writeSafetensors(out, names, rows);
        } else {
            writeCsv(out, names, rows);
        }
        System.err.println("embed: wrote " + n + " rows of " + rows[0].length + " features to " + out);
        return 0;
    }

    /** Runs every image through the backbone, {@code b} at a time; the last batch is zero-padded. */
    private float[][] embed(Backend be, ResNet net, ImageFolder folder, int c, float[] m, float[] s, int b) {
        int n = folder.size(), features = net.c5().shape().last();
        Tensor x = be.allocate(DType.F32, net.inputShape());        // (b, size, size, c)
        Tensor pooled = be.allocate(DType.F32, Shape.of(b, features)); // (b, C5 channels)
        float[] host = new float[(int) x.numel()];
        float[] pooledHost = new float[b * features];
        float[][] rows = new float[n][];
        int perImage = size * size * c;
        Progress progress = new Progress(System.err, "embed", n);
        for (int start = 0; start < n; start += b) {
            int count = Math.min(b, n - start);
            java.util.Arrays.fill(host, 0f); // padding rows: BN in eval mode keeps samples independent
            for (int i = 0; i < count; i++) {
                fill(folder.file(start + i), c, m, s, host, i * perImage);
            }
            be.upload(host, x);
            net.forward(x, false);
            be.globalAvgPoolForward(net.c5().value(), pooled);
            be.download(pooled, pooledHost);
            for (int i = 0; i < count; i++) {
                rows[start + i] = java.util.Arrays.copyOfRange(pooledHost, i * features, (i + 1) * features);
            }
            if (start + count < n) {
                progress.update(start + count);
            }
        }
        progress.finish(n);
        return rows;
    }

    /** Decodes, resizes and normalises one image into out[offset ...] as (size, size, c). */
    void fill(Path file, int c, float[] m, float[] s, float[] out, int offset) {
        GrayImage[] planes = planes(file, c);
        for (int ch = 0; ch < c; ch++) {
            GrayImage p = Resample.resize(planes[ch], size, size);
            float[] px = p.pixels();
            float mu = m[ch], inv = 1f / s[ch];
            for (int i = 0; i < px.length; i++) {
                out[offset + i * c + ch] = (px[i] - mu) * inv;
            }
        }
    }

    /**
     * The image as c planes in [0, 1]. Gray input to a 3-channel model is replicated; colour input to a
     * 1-channel model is converted to luma (ImageDecoder's rule). ImageDecoder decodes first in every
     * case, which also rejects truncated and malformed files with a clear message.
     */
    static GrayImage[] planes(Path file, int c) {
        GrayImage gray = ImageDecoder.readImage(file);
        if (c == 1) {
            return new GrayImage[] {gray};
        }
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        boolean colour = img.getColorModel() instanceof IndexColorModel
                || img.getColorModel().getNumColorComponents() >= 3;
        if (!colour) {
            return new GrayImage[] {gray, gray, gray};
        }
        int h = img.getHeight(), w = img.getWidth();
        float[] r = new float[h * w], g = new float[h * w], bl = new float[h * w];
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < argb.length; i++) {
            r[i] = ((argb[i] >> 16) & 0xff) / 255f;
            g[i] = ((argb[i] >> 8) & 0xff) / 255f;
            bl[i] = (argb[i] & 0xff) / 255f;
        }
        return new GrayImage[] {new GrayImage(h, w, r), new GrayImage(h, w, g), new GrayImage(h, w, bl)};
    }

    /** (out channels, in channels) of the stem conv in {@code file}, after wrapper prefixes. */
    static int[] stemShape(Path file) {
        try (SafeTensors sf = SafeTensors.open(file)) {
            for (String name : sf.names()) {
                String key = name;
                for (boolean again = true; again; ) {
                    again = false;
                    for (String p : StateDict.PREFIXES) {
                        if (key.startsWith(p)) {
                            key = key.substring(p.length());
                            again = true;
                        }
                    }
                }
                Shape sh = sf.shape(name);
                if (key.equals("conv1.weight") && sh.rank() == 4) {
                    return new int[] {sh.dim(0), sh.dim(1)};
                }
            }
        }
        throw new IllegalArgumentException(file + " has no stem 'conv1.weight' (O, I, 7, 7): not ResNet weights");
    }

    static int depth(String arch) {
        String a = arch.toLowerCase(Locale.ROOT);
        try {
            return Integer.parseInt(a.startsWith("resnet") ? a.substring(6) : a);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--arch must be resnet18, 34, 50, 101 or 152, not " + arch);
        }
    }

    private static float[] perChannel(String option, float[] given, float[] dflt, int c) {
        float[] v = given == null ? dflt : given;
        if (v.length == c) {
            return v;
        }
        if (v.length == 1) {
            float[] all = new float[c];
            java.util.Arrays.fill(all, v[0]);
            return all;
        }
        throw new IllegalArgumentException(option + " needs 1 or " + c + " values for " + c + "-channel input, got "
                + v.length);
    }

    private static List<String> names(ImageFolder folder) {
        Path root = folder.root();
        return java.util.stream.IntStream.range(0, folder.size())
                .mapToObj(i -> root.relativize(folder.file(i)).toString().replace('\\', '/')).toList();
    }

    static void writeCsv(Path file, List<String> names, float[][] rows) {
        AtomicFiles.write(file, os -> {
            Writer w = new java.io.OutputStreamWriter(os, StandardCharsets.UTF_8);
            StringBuilder line = new StringBuilder("file");
            for (int j = 0; j < rows[0].length; j++) {
                line.append(",f").append(j);
            }
            w.write(line.append('\n').toString());
            for (int i = 0; i < rows.length; i++) {
                line.setLength(0);
                line.append(csvField(names.get(i)));
                for (float v : rows[i]) {
                    line.append(',').append(v); // Float.toString: shortest text that reads back exactly
                }
                w.write(line.append('\n').toString());
            }
            w.flush();
        });
    }

    /** RFC 4180 quoting for names holding a comma, quote or line break. */
    static String csvField(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    static void writeSafetensors(Path file, List<String> names, float[][] rows) {
        int n = rows.length, c = rows[0].length;
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.wrap(DType.F32, Shape.of(n, c), arena.allocate((long) n * c * 4, 64)); // (N, C)
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    t.setFloat((long) i * c + j, rows[i][j]);
                }
            }
            String json;
            try {
                json = new ObjectMapper().writeValueAsString(names);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            SafeTensors.write(file, Map.of("features", t), Map.of("names", json));
        }
    }
}
