package org.densecl.experiment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.densecl.densecl.PretrainVerdict;

/**
 * Every finished run of an experiment with the pretraining's verdict, and the comparisons the report
 * draws from them per labeled-set size.
 *
 * @param sizes the labeled-set sizes run (data.trainLimit values)
 * @param trainCounts the training images each size really means (0 resolves to the whole training split)
 */
public record StudyResults(List<Integer> sizes, List<Integer> trainCounts, int headline, PretrainVerdict verdict,
                           List<RunResult> runs) {

    public StudyResults {
        sizes = List.copyOf(sizes);
        trainCounts = List.copyOf(trainCounts);
        runs = List.copyOf(runs);
    }

    /**
     * When DenseCL first matched Kaiming's end point: {@code threshold} is the mean over Kaiming's trials of
     * the final validation mIoU; {@code perTrial} the first validation iteration at which each DenseCL trial
     * reached it (-1: never); {@code meanCurve} the same for DenseCL's mean validation curve.
     */
    public record Reach(double threshold, long iterations, List<Long> perTrial, long meanCurve) {}

    /** The runs of one arm and size, by trial. */
    public List<RunResult> of(String arm, int size) {
        List<RunResult> out = new ArrayList<>();
        for (RunResult r : runs) {
            if (r.spec().arm().equals(arm) && r.spec().size() == size) {
                out.add(r);
            }
        }
        out.sort(Comparator.comparingInt(r -> r.spec().trial()));
        return out;
    }

    /** The training images a size stands for. */
    public int trainCount(int size) {
        return trainCounts.get(sizes.indexOf(size));
    }

    public Comparison miou(int size) {
        return compare(size, RunResult::miou);
    }

    public Comparison mdice(int size) {
        return compare(size, RunResult::mdice);
    }

    /** Class 1's (the recess's) test IoU. */
    public Comparison recessIou(int size) {
        return compare(size, r -> r.iou(1));
    }

    private Comparison compare(int size, ToDoubleFunction<RunResult> f) {
        return Comparison.of(of(ExperimentPlan.DENSECL, size).stream().mapToDouble(f).toArray(),
                of(ExperimentPlan.KAIMING, size).stream().mapToDouble(f).toArray());
    }

    /** The learning-speed comparison of one size (the study's "78 mIoU at 4k of 40k iterations"). */
    public Reach reach(int size) {
        List<RunResult> dense = of(ExperimentPlan.DENSECL, size), kaiming = of(ExperimentPlan.KAIMING, size);
        double threshold = kaiming.stream().mapToDouble(RunResult::finalValMiou).average().orElse(Double.NaN);
        List<Long> perTrial = new ArrayList<>();
        for (RunResult r : dense) {
            perTrial.add(firstReach(r.curve().stream().map(p -> new double[] {p.iteration(), p.miou()}).toList(),
                    threshold));
        }
        List<double[]> mean = new ArrayList<>(); // (validations, 2) iteration, mean val mIoU over DenseCL trials
        List<RunResult.CurvePoint> first = dense.getFirst().curve();
        for (int i = 0; i < first.size(); i++) {
            double sum = 0;
            for (RunResult r : dense) {
                if (r.curve().size() != first.size() || r.curve().get(i).iteration() != first.get(i).iteration()) {
                    throw new IllegalStateException("the DenseCL runs of size " + size + " validated at different"
                            + " iterations; were they made with one fine-tuning config?");
                }
                sum += r.curve().get(i).miou();
            }
            mean.add(new double[] {first.get(i).iteration(), sum / dense.size()});
        }
        return new Reach(threshold, dense.getFirst().iterations(), perTrial, firstReach(mean, threshold));
    }

    private static long firstReach(List<double[]> curve, double threshold) {
        for (double[] p : curve) {
            if (p[1] >= threshold) {
                return (long) p[0];
            }
        }
        return -1;
    }
}
