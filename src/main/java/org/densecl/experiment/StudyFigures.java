package org.densecl.experiment;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.densecl.report.EfficiencyChart;
import org.densecl.report.LearningCurves;

/**
 * The experiment's charts drawn from its numbers alone: curves.png (validation mIoU against iteration for
 * every run, DenseCL in blue shades, Kaiming in red) and, with several labeled-set sizes, efficiency.png
 * (mean test mIoU and its standard deviation against the labeled-set size, both arms).
 */
public final class StudyFigures {
    public static final Color DENSECL = new Color(0x1f77b4);
    public static final Color KAIMING = new Color(0xd62728);

    private StudyFigures() {}

    public static Color colour(String arm) {
        return arm.equals(ExperimentPlan.DENSECL) ? DENSECL : KAIMING;
    }

    public static String name(String arm) {
        return arm.equals(ExperimentPlan.DENSECL) ? "DenseCL" : "Kaiming";
    }

    /** curves.png: one line per run; a family of shades per arm, one shade per (size, trial). */
    public static void curves(Path png, StudyResults s) {
        List<LearningCurves.Run> runs = new ArrayList<>();
        boolean sized = s.sizes().size() > 1;
        for (String arm : ExperimentPlan.ARMS) {
            List<RunResult> mine = new ArrayList<>();
            for (int size : s.sizes()) {
                mine.addAll(s.of(arm, size));
            }
            List<Color> shades = LearningCurves.shades(colour(arm), mine.size());
            for (int i = 0; i < mine.size(); i++) {
                RunResult r = mine.get(i);
                String label = name(arm) + (sized ? " n" + s.trainCount(r.spec().size()) : "") + " t" + r.spec().trial();
                runs.add(new LearningCurves.Run(label, shades.get(i), r.curve().stream()
                        .map(p -> new LearningCurves.Point(p.iteration(), p.miou())).toList()));
            }
        }
        LearningCurves.write(png, "Validation mIoU while fine-tuning: DenseCL (blue) vs Kaiming init (red)", runs);
    }

    /** efficiency.png: mean and std of test mIoU per labeled-set size, both arms. */
    public static void efficiency(Path png, StudyResults s) {
        List<EfficiencyChart.Arm> arms = new ArrayList<>();
        for (String arm : ExperimentPlan.ARMS) {
            int n = s.sizes().size();
            double[] x = new double[n], mean = new double[n], std = new double[n]; // (sizes) each
            for (int i = 0; i < n; i++) {
                int size = s.sizes().get(i);
                Comparison c = s.miou(size);
                Comparison.Stats st = arm.equals(ExperimentPlan.DENSECL) ? c.densecl() : c.kaiming();
                x[i] = s.trainCount(size);
                mean[i] = st.mean();
                std[i] = st.std();
            }
            arms.add(new EfficiencyChart.Arm(name(arm), colour(arm), x, mean, std));
        }
        EfficiencyChart.write(png, "Test mIoU against labeled training images (error bars: 1 std over trials)", arms);
    }
}
