package org.densecl.experiment;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.densecl.data.Progress;
import org.densecl.data.io.AtomicFiles;
import org.densecl.densecl.PretrainVerdict;

/**
 * report.md: the study's answer in one page. The verdict of the pretraining first (a loud warning when it
 * collapsed), then per labeled-set size the table of test mIoU and mDice per trial and arm with means,
 * standard deviations, the gap and both of {@link Comparison}'s criteria, the learning-speed line, the
 * data-efficiency table when several sizes ran, the figures, the settings and the machine.
 */
public final class ReportMarkdown {
    /** Everything the page states besides the numbers of {@link StudyResults}. */
    public record Context(String experimentConfig, List<String> experimentOverrides, String pretrainConfig,
                          List<String> pretrainOverrides, int unlabeledImages, long pretrainSteps, String finetuneConfig,
                          List<String> finetuneOverrides, long iterations, int batch, int crop, String labeledRoot,
                          int labeledImages, int[] splitSizes, List<String> acquisitionShift, long labeledSeed,
                          String exampleCommand, List<String> overlayLines, boolean tsneBeforeFinetuning,
                          MachineInfo machine, double invocationSeconds, Timings timings) {}

    private ReportMarkdown() {}

    public static void write(Path file, StudyResults s, Context c) {
        String md = render(s, c);
        AtomicFiles.write(file, out -> out.write(md.getBytes(StandardCharsets.UTF_8)));
    }

    static String render(StudyResults s, Context c) {
        StringBuilder b = new StringBuilder();
        b.append("# ").append(ResultsJson.QUESTION).append("\n\n");
        b.append("DenseCL-pretrained ResNet-50 backbone vs Kaiming (random) init, each fine-tuned as FCN R50-D8 on a few")
                .append(" labeled images from a shifted acquisition; ").append(s.runs().size() / 2 / s.sizes().size())
                .append(" trial(s) per arm and labeled-set size, trial t with run.seed = t for both arms (same labeled")
                .append(" subset, data order and augmentation). Test metrics of the final models, in percent.\n\n");
        verdict(b, s.verdict());
        for (int size : s.sizes()) {
            table(b, s, size);
        }
        if (s.sizes().size() > 1) {
            efficiency(b, s);
        }
        figures(b, s, c);
        settings(b, s, c);
        return b.toString();
    }

    private static void verdict(StringBuilder b, PretrainVerdict v) {
        b.append("## Pretraining\n\n");
        if (v.alive()) {
            b.append("pretrain: ").append(v.line()).append("\n\n");
            return;
        }
        b.append("> **WARNING: THE PRETRAINING COLLAPSED.** ").append(v.line()).append(".\n>\n")
                .append("> A collapsed DenseCL backbone transfers WORSE than random init (measured on this project's quick")
                .append(" configs, one trial: test mIoU 66.2 collapsed vs 71.7 Kaiming vs 81.4 alive). The DenseCL")
                .append(" arm below measures a failed pretraining, not DenseCL. Why, and what to try: ").append(v.advice())
                .append(".\n\n");
    }

    private static void table(StringBuilder b, StudyResults s, int size) {
        List<RunResult> d = s.of(ExperimentPlan.DENSECL, size), k = s.of(ExperimentPlan.KAIMING, size);
        Comparison miou = s.miou(size), dice = s.mdice(size), recess = s.recessIou(size);
        b.append(String.format(Locale.ROOT, "## Test mIoU with %d labeled training images%n%n", s.trainCount(size)));
        b.append("| trial | DenseCL mIoU | Kaiming mIoU | gap | DenseCL mDice | Kaiming mDice | DenseCL recess IoU |")
                .append(" Kaiming recess IoU |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int t = 0; t < d.size(); t++) {
            RunResult x = d.get(t), y = k.get(t);
            b.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s | %s |%n", x.spec().trial(), f(x.miou()),
                    f(y.miou()), signed(x.miou() - y.miou()), f(x.mdice()), f(y.mdice()), f(x.iou(1)), f(y.iou(1))));
        }
        b.append(String.format(Locale.ROOT, "| **mean** | **%s** | **%s** | **%s** | %s | %s | %s | %s |%n",
                f(miou.densecl().mean()), f(miou.kaiming().mean()), signed(miou.gap()), f(dice.densecl().mean()),
                f(dice.kaiming().mean()), f(recess.densecl().mean()), f(recess.kaiming().mean())));
        b.append(String.format(Locale.ROOT, "| std | %s | %s | | %s | %s | %s | %s |%n%n", f(miou.densecl().std()),
                f(miou.kaiming().std()), f(dice.densecl().std()), f(dice.kaiming().std()), f(recess.densecl().std()),
                f(recess.kaiming().std())));
        b.append(String.format(Locale.ROOT, "- **mIoU**: %s%n", judgement(miou, "mIoU")));
        b.append(String.format(Locale.ROOT, "- **mDice**: %s%n", judgement(dice, "mDice")));
        StudyResults.Reach r = s.reach(size);
        b.append(String.format(Locale.ROOT, "- **Learning speed** (the study's \"78 mIoU at 4k of 40k iterations\"):"
                        + " Kaiming's final validation mIoU, mean over its trials, is %s; DenseCL's mean validation curve"
                        + " first reached it at %s of %d iterations (per trial: %s).%n%n", f(r.threshold()),
                iteration(r.meanCurve()), r.iterations(),
                String.join(", ", r.perTrial().stream().map(ReportMarkdown::iteration).toList())));
    }

    /** The gap and both criteria in words. */
    static String judgement(Comparison c, String what) {
        if (c.densecl().n() < 2) {
            return String.format(Locale.ROOT, "DenseCL - Kaiming = %s points; one trial: no spread, no test.",
                    signed(c.gap()));
        }
        String t = Double.isInfinite(c.pairedT()) ? (c.pairedT() > 0 ? "+inf" : "-inf") : f2(c.pairedT());
        return String.format(Locale.ROOT, "difference of means DenseCL - Kaiming = %s points; the larger standard"
                        + " deviation is %s, so the gap %s the spread (criterion: |gap| > the larger std). Paired t over"
                        + " the trials = %s with %d degrees of freedom: %s at the 5%% level (two-sided, |t| > %s).",
                signed(c.gap()), f(c.largerStd()), c.exceedsSpread() ? "**exceeds**" : "does **not** exceed", t, c.df(),
                c.significant() ? "**significant**" : "not significant", f2(c.tCritical()));
    }

    private static void efficiency(StringBuilder b, StudyResults s) {
        b.append("## Data efficiency\n\n| labeled images | DenseCL mIoU | Kaiming mIoU | gap | gap > larger std |")
                .append(" paired t (df) | significant (5%) |\n|---:|---:|---:|---:|:---|---:|:---|\n");
        for (int size : s.sizes()) {
            Comparison c = s.miou(size);
            b.append(String.format(Locale.ROOT, "| %d | %s ± %s | %s ± %s | %s | %s | %s (%d) | %s |%n", s.trainCount(size),
                    f(c.densecl().mean()), f(c.densecl().std()), f(c.kaiming().mean()), f(c.kaiming().std()),
                    signed(c.gap()), c.exceedsSpread() ? "yes" : "no", f2(c.pairedT()), c.df(),
                    c.significant() ? "yes" : "no"));
        }
        b.append("\n![mean test mIoU against labeled-set size](efficiency.png)\n\n");
    }

    private static void figures(StringBuilder b, StudyResults s, Context c) {
        b.append("## Figures\n\n");
        b.append("Validation mIoU during fine-tuning, every run (DenseCL blue shades, Kaiming red):\n\n")
                .append("![validation mIoU curves](curves.png)\n\n");
        b.append(String.format(Locale.ROOT, "Test images with a recess (%d labeled images, trial 0's final models):"
                + " ground truth white, DenseCL blue, Kaiming red; left to right, top to bottom:%n%n", s.trainCount(s.headline())));
        for (String l : c.overlayLines()) {
            b.append("- ").append(l).append('\n');
        }
        b.append("\n![overlays](overlays.png)\n\n");
        b.append("t-SNE of the test images' pooled C5 features under trial 0's fine-tuned backbones")
                .append(c.tsneBeforeFinetuning() ? ", the pretrained DenseCL backbone and Kaiming's init" : "")
                .append(" (each vector scaled to unit length; backbones separate by construction, read the spread within")
                .append(" a cloud):\n\n![t-SNE](tsne.png)\n\n");
    }

    private static void settings(StringBuilder b, StudyResults s, Context c) {
        b.append("## Settings\n\n");
        b.append("- experiment: `").append(c.experimentConfig()).append('`').append(list(c.experimentOverrides()))
                .append('\n');
        b.append(String.format(Locale.ROOT, "- pretraining: `%s`%s: %d unlabeled simulated images, %d steps -> `pretrain/`%n",
                c.pretrainConfig(), list(c.pretrainOverrides()), c.unlabeledImages(), c.pretrainSteps()));
        b.append(String.format(Locale.ROOT, "- fine-tuning: `%s`%s: %d iterations of batch %d, %dx%d crops%n",
                c.finetuneConfig(), list(c.finetuneOverrides()), c.iterations(), c.batch(), c.crop(), c.crop()));
        b.append(String.format(Locale.ROOT, "- labeled set: `%s`, %d simulated images (seed %d; train/val/test %d/%d/%d),"
                        + " acquisition shifted from the unlabeled pool's by %s; each trial draws its %s training images"
                        + " by its seed (`data.trainSubset: seeded`), the same for both arms%n", c.labeledRoot(),
                c.labeledImages(), c.labeledSeed(), c.splitSizes()[0], c.splitSizes()[1], c.splitSizes()[2],
                c.acquisitionShift().isEmpty() ? "nothing" : "`" + String.join("`, `", c.acquisitionShift()) + "`",
                String.join(" / ", s.sizes().stream().map(z -> Integer.toString(s.trainCount(z))).toList())));
        b.append("- one run, as a command: `").append(c.exampleCommand()).append("`\n");
        b.append("- machine: ").append(c.machine().line()).append('\n');
        double[] ft = c.timings().sum("finetune/");
        b.append(String.format(Locale.ROOT, "- wall time: this invocation %s; per phase, over all invocations that worked"
                        + " on this folder: pretraining %s, %d fine-tunings %s (%s each on average), report %s%n",
                Progress.duration(c.invocationSeconds()), time(c.timings().get("pretrain")), (int) ft[1],
                time(ft[0]), ft[1] > 0 ? time(ft[0] / ft[1]) : "-", time(c.timings().get("report"))));
    }

    private static String list(List<String> overrides) {
        return overrides.isEmpty() ? "" : " with `" + String.join("`, `", overrides) + "`";
    }

    private static String time(double seconds) {
        return Double.isFinite(seconds) ? Progress.duration(seconds) : "n/a";
    }

    private static String iteration(long it) {
        return it < 0 ? "never" : Long.toString(it);
    }

    static String f(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", v) : "n/a";
    }

    private static String f2(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "n/a";
    }

    static String signed(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%+.1f", v) : "n/a";
    }
}
