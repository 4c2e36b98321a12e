package org.densecl.cli;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.backend.OpProfile;
import org.densecl.densecl.DenseClModel;
import org.densecl.densecl.DenseClOptions;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Conv2d;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * {@code ./densecl bench step --model densecl}: one full DenseCL pretraining step ({@link DenseClModel#step}:
 * key-encoder EMA, query and key forward, necks, global and dense InfoNCE, backward, SGD, enqueue) on two
 * random views, timed after warm-up. The options besides the backbone are the paper's (hidden 2048, D 128,
 * tau 0.2, lambda 0.5, m 0.999, SGD momentum 0.9, weight decay 1e-4) with a queue of {@code --queue} keys.
 * {@code --bn-groups} defaults to 1 (one BN over the batch for both encoders): a single device has no
 * batch shuffle, and bench/pytorch/densecl_step_bench.py, the twin run by {@code --compare-pytorch}, is
 * single-device.
 *
 * <p>FLOPs of a step ({@link Flops}; multiply-adds times two, everything else, BN, ReLU, norms, softmax
 * and SGD, not counted):
 * <ul>
 *   <li>backbone: 4 x its forward convolutions. The query backbone's forward, data gradient and filter
 *       gradient each cost one forward (3x, as the ResNet step, although the stem needs no data gradient);
 *       the key backbone runs forward only (1x);</li>
 *   <li>necks: 4 x one neck's forward, by the same rule: the two Linear layers on the pooled C5
 *       (N (C H + H D)) and the two 1x1 convs on every location (N S2 (C H + H D));</li>
 *   <li>contrastive: the logits against the queues, forward and the query gradient (the queue is a constant):
 *       2 x 2 (N + N S2) (K + 1) D; and the dense matching, 2 N S2 S2 C.</li>
 * </ul>
 */
final class DenseClStepBenchmark {
    /** FLOPs of one DenseCL step, split as in the class comment. */
    record Flops(double backboneForward, double neckForward, double contrastive) {
        /**
         * @param convs backbone convolutions of one encoder at the benchmark batch
         * @param n batch, s2 C5 locations per image, c C5 channels, hidden neck width H, dim D, queue K
         */
        static Flops of(List<Conv2d> convs, int n, int s2, int c, int hidden, int dim, int queue) {
            double backbone = 0;
            for (Conv2d conv : convs) {
                backbone += conv.geometry().flops();
            }
            double perVector = 2.0 * ((double) c * hidden + (double) hidden * dim);
            double neck = perVector * n + perVector * n * s2;
            double logits = 2.0 * 2.0 * (n + (double) n * s2) * (queue + 1.0) * dim;
            double match = 2.0 * n * (double) s2 * s2 * c;
            return new Flops(backbone, neck, logits + match);
        }

        double step() {
            return 4 * backboneForward + 4 * neckForward + contrastive;
        }
    }

    private final StepBenchmark a;  // the parsed options
    private final String arch;
    private final int queue;
    private final int bnGroups;
    private final double widthMultiplier;

    DenseClStepBenchmark(StepBenchmark options) {
        this.a = options;
        this.arch = options.arch != null ? options.arch : "resnet50";
        this.queue = options.queue != null ? options.queue : 4096;
        this.bnGroups = options.bnGroups != null ? options.bnGroups : 1;
        this.widthMultiplier = options.widthMultiplier != null ? options.widthMultiplier : 1.0;
    }

    int run() throws Exception {
        if (!arch.matches("resnet(18|34|50|101|152)")) {
            throw new IllegalArgumentException("bench step: --arch must be resnet18, 34, 50, 101 or 152, not " + arch);
        }
        if (queue < 1 || queue % a.batch != 0) {
            throw new IllegalArgumentException("bench step: --queue " + queue + " must be a positive multiple of"
                    + " --batch " + a.batch);
        }
        if (bnGroups < 1 || a.batch % bnGroups != 0) {
            throw new IllegalArgumentException("bench step: --bn-groups " + bnGroups + " must divide --batch "
                    + a.batch);
        }
        if (!(widthMultiplier > 0)) {
            throw new IllegalArgumentException("bench step: --width-multiplier must be > 0, not " + widthMultiplier);
        }
        int depth = Integer.parseInt(arch.substring("resnet".length()));
        ResNetConfig cfg = ResNetConfig.resnet(depth).withWidthMultiplier(widthMultiplier)
                .withInChannels(a.channels);
        DenseClOptions paper = DenseClOptions.paper();
        DenseClOptions opt = new DenseClOptions(paper.hidden(), paper.dim(), queue, paper.temperature(),
                paper.lambda(), paper.momentum(), paper.sgdMomentum(), paper.weightDecay(), bnGroups);
        if (a.comparePytorch && (widthMultiplier != 1.0 || bnGroups != 1)) {
            throw new IllegalArgumentException("bench step: --compare-pytorch needs --width-multiplier 1 and"
                    + " --bn-groups 1 (the PyTorch twin is torchvision's width on one device)");
        }
        int usedThreads = a.threads > 0 ? a.threads : Runtime.getRuntime().availableProcessors();
        return a.runRounds((last, earlier) -> {
            try (Backend raw = Backends.open(a.backend, a.threads, a.tuning())) {
                OpProfile prof = OpProfile.of(raw);
                Backend be = a.profile ? prof.backend() : raw;
                DenseClModel m = new DenseClModel(be, cfg, DType.F32, a.batch, a.size, a.size, opt);
                m.initialize(1);
                Tensor imQ = be.allocate(DType.F32, Shape.of(a.batch, a.size, a.size, a.channels)); // (N, H, W, C)
                Tensor imK = be.allocate(DType.F32, imQ.shape());                                   // (N, H, W, C)
                SplittableRandom r = new SplittableRandom(0);
                StepBenchmark.fillUniform(be, imQ, r);
                StepBenchmark.fillUniform(be, imK, r);
                DenseClModel.Losses[] loss = new DenseClModel.Losses[1];
                double[] times = a.timeSteps(raw, prof, () -> loss[0] = m.step(imQ, imK, 0.03f));
                if (last) {
                    Flops flops = Flops.of(m.backboneQuery().convs(), a.batch, m.locations(), cfg.stageChannels(3),
                            opt.hidden(), opt.dim(), queue);
                    report(StepBenchmark.concat(earlier, times), flops, usedThreads, loss[0]);
                    if (a.profile) {
                        prof.print(System.out, times.length, StepBenchmark.mean(times), a.profileRows);
                    }
                }
                return times;
            }
        }, "densecl_step_bench.py", List.of("--arch", arch, "--batch", "" + a.batch, "--size", "" + a.size,
                "--queue", "" + queue, "--channels", "" + a.channels));
    }

    private void report(double[] times, Flops flops, int usedThreads, DenseClModel.Losses loss) {
        double mean = StepBenchmark.mean(times);
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        String width = widthMultiplier == 1.0 ? "" : " width x" + widthMultiplier;
        System.out.printf("densecl %s%s batch %d %dx%dx%d queue %d bn-groups %d, backend %s (%s),"
                        + " %s, last loss %.4f (global %.4f + dense %.4f)%n", arch, width,
                a.batch, a.channels, a.size, a.size, queue, bnGroups, a.backend, a.backendDetails(usedThreads),
                a.stepsLabel(times.length), loss.total(), loss.global(), loss.dense());
        System.out.printf("  %.3f images/s, %.4f s/step (min %.4f, median %.4f, max %.4f)%n",
                a.batch / mean, mean, sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1]);
        System.out.printf("  %.2f GFLOP/s (direct-convolution FLOPs; step = %.3f GFLOP: backbones 4 x %.3f (query fwd+bwd 3x, key fwd 1x),"
                        + " necks 4 x %.3f, logits + matching %.3f)%n", flops.step() / mean * 1e-9, flops.step() * 1e-9,
                flops.backboneForward() * 1e-9, flops.neckForward() * 1e-9, flops.contrastive() * 1e-9);
        System.out.println(a.cost.line());
        System.out.println(StepCost.hugePageLine());
        System.out.println(StepBenchmark.machineLine());
        System.out.printf("  memory: process peak RSS %s%n", StepBenchmark.mib(StepBenchmark.procStatusBytes("VmHWM")));
    }
}
