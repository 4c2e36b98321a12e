package org.densecl.cli;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.backend.OpProfile;
import org.densecl.nn.Conv2d;
import org.densecl.nn.Sgd;
import org.densecl.seg.SegmentationConfig;
import org.densecl.seg.SegmentationModel;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * {@code ./densecl bench step --model fcn}: one FCN R50-D8 fine-tuning step as {@code ./densecl finetune}
 * runs it: {@link SegmentationModel#lossAndGradients} (zero the gradients; dilated ResNet-50, decode head on
 * C5 and auxiliary head on C4 in training mode, with mmseg's Dropout2d 0.1; both logits bilinearly resized to
 * the input size; ignore-255 cross-entropy over all pixels, total = decode + 0.4 aux; backward) and then SGD
 * with momentum 0.9 and weight decay 5e-4 (the fine-tuning recipe's) on the backbone and the heads. Images
 * are uniform(-1, 1), labels uniform classes with a tenth of the pixels 255, timed after warm-up.
 * {@code --compare-pytorch} runs bench/pytorch/fcn_step_bench.py, the same model (bench/pytorch/fcn_model.py,
 * whose equivalence FcnParityTest checks), batch, size, classes, dropout and optimiser.
 *
 * <p>FLOPs of a step ({@link Flops}): 3 x the forward convolutions of the backbone and both heads (the
 * forward, the data gradient and the filter gradient each cost one forward, as in the ResNet step, although
 * the stem needs no data gradient); BN, ReLU, dropout, resize, softmax and SGD are not counted.
 */
final class FcnStepBenchmark {
    /** Forward convolution FLOPs of one step's model, split by part. */
    record Flops(double backbone, double decodeHead, double auxHead) {
        static Flops of(SegmentationModel m) {
            return of(m.backbone().convs(), m.decodeHead().convs(), m.auxiliaryHead().convs());
        }

        /** From the parts' convolutions (planned geometries are enough: nothing needs to be allocated). */
        static Flops of(List<Conv2d> backbone, List<Conv2d> decodeHead, List<Conv2d> auxHead) {
            return new Flops(sum(backbone), sum(decodeHead), sum(auxHead));
        }

        private static double sum(List<Conv2d> convs) {
            double f = 0;
            for (Conv2d c : convs) {
                f += c.geometry().flops();
            }
            return f;
        }

        double forward() {
            return backbone + decodeHead + auxHead;
        }

        double step() {
            return 3 * forward();
        }
    }

    /** mmseg's FCN R50-D8 fine-tuning optimiser (configs/finetune_*.yaml): SGD lr 0.01, momentum 0.9, wd 5e-4. */
    static final float LR = 0.01f, MOMENTUM = 0.9f, WEIGHT_DECAY = 5e-4f;
    /** The share of ignored (255) label pixels, as padded crops have some. */
    static final double IGNORED = 0.1;

    private final StepBenchmark a;  // the parsed options, defaults resolved
    private final double widthMultiplier;

    FcnStepBenchmark(StepBenchmark options) {
        this.a = options;
        this.widthMultiplier = options.widthMultiplier != null ? options.widthMultiplier : 1.0;
    }

    /** fcnR50D8 (ResNet-50 at output stride 8, heads 512 and 256, dropout 0.1) at the width and channels asked. */
    SegmentationConfig config() {
        SegmentationConfig c = SegmentationConfig.fcnR50D8().withWidthMultiplier(widthMultiplier);
        return c.withBackbone(c.backbone().withInChannels(a.channels));
    }

    int run() throws Exception {
        if (!(widthMultiplier > 0)) {
            throw new IllegalArgumentException("bench step: --width-multiplier must be > 0, not " + widthMultiplier);
        }
        if (a.classes >= SegmentationModel.IGNORE_INDEX) {
            throw new IllegalArgumentException("bench step: --model fcn needs --classes below "
                    + SegmentationModel.IGNORE_INDEX + " (the ignore label), not " + a.classes);
        }
        SegmentationConfig cfg = config();
        int usedThreads = a.threads > 0 ? a.threads : Runtime.getRuntime().availableProcessors();
        return a.runRounds((last, earlier) -> {
            try (Backend raw = Backends.open(a.backend, a.threads, a.tuning())) {
                OpProfile prof = OpProfile.of(raw);
                Backend be = a.profile ? prof.backend() : raw;
                SegmentationModel m = new SegmentationModel(be, cfg, DType.F32, a.batch, a.size, a.size, a.classes);
                m.initialize(1);
                Sgd sgdBackbone = new Sgd(be, m.backbone().parameters(), MOMENTUM, WEIGHT_DECAY, true);
                Sgd sgdHeads = new Sgd(be, m.headParameters(), MOMENTUM, WEIGHT_DECAY, true);
                Tensor images = be.allocate(DType.F32, m.inputShape());  // (N, H, W, Cin)
                Tensor labels = be.allocate(DType.I32, m.labelShape());  // (N, H, W)
                SplittableRandom r = new SplittableRandom(0);
                StepBenchmark.fillUniform(be, images, r);
                fillLabels(be, labels, a.classes, r);
                SegmentationModel.Losses[] loss = new SegmentationModel.Losses[1];
                long[] step = {0};
                double[] times = a.timeSteps(raw, prof, () -> {
                    loss[0] = m.lossAndGradients(images, labels, step[0]++);
                    sgdBackbone.step(LR);
                    sgdHeads.step(LR);
                });
                if (last) {
                    long params = m.backbone().parameters().trainableCount() + m.headParameters().trainableCount();
                    report(StepBenchmark.concat(earlier, times), Flops.of(m), params, usedThreads, loss[0]);
                    if (a.profile) {
                        prof.print(System.out, times.length, StepBenchmark.mean(times), a.profileRows);
                    }
                }
                return times;
            }
        }, "fcn_step_bench.py", List.of("--batch", "" + a.batch, "--size", "" + a.size, "--channels", "" + a.channels,
                "--classes", "" + a.classes, "--width-multiplier", "" + widthMultiplier));
    }

    /** Uniform classes in [0, classes), a fraction {@link #IGNORED} of the pixels 255. */
    private static void fillLabels(Backend be, Tensor labels, int classes, SplittableRandom r) {
        int[] l = new int[(int) labels.numel()];
        for (int i = 0; i < l.length; i++) {
            l[i] = r.nextDouble() < IGNORED ? SegmentationModel.IGNORE_INDEX : r.nextInt(classes);
        }
        be.upload(l, labels);
    }

    private void report(double[] times, Flops flops, long params, int usedThreads, SegmentationModel.Losses loss) {
        double mean = StepBenchmark.mean(times);
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        String width = widthMultiplier == 1.0 ? "" : " width x" + widthMultiplier;
        System.out.printf("fcn r50-d8%s batch %d %dx%dx%d classes %d (%,d parameters), backend %s (%s), %s,"
                        + " last loss %.4f (decode %.4f + 0.4 x aux %.4f)%n", width, a.batch, a.channels, a.size,
                a.size, a.classes, params, a.backend, a.backendDetails(usedThreads), a.stepsLabel(times.length),
                loss.total(), loss.decode(), loss.aux());
        System.out.printf("  %.3f images/s, %.4f s/step (min %.4f, median %.4f, max %.4f)%n",
                a.batch / mean, mean, sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1]);
        System.out.printf("  %.2f GFLOP/s (direct-convolution FLOPs, which Winograd computes with fewer; step = 3 x"
                        + " forward = %.3f GFLOP; forward: backbone %.3f, decode head %.3f, auxiliary head %.3f)%n",
                flops.step() / mean * 1e-9, flops.step() * 1e-9, flops.backbone() * 1e-9, flops.decodeHead() * 1e-9,
                flops.auxHead() * 1e-9);
        System.out.println(a.cost.line());
        System.out.println(StepCost.hugePageLine());
        System.out.println(StepBenchmark.machineLine());
        System.out.printf("  memory: process peak RSS %s%n", StepBenchmark.mib(StepBenchmark.procStatusBytes("VmHWM")));
    }
}
