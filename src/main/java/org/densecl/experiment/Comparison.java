package org.densecl.experiment;

import java.util.List;

/**
 * DenseCL against Kaiming on one number (test mIoU or mDice) over the trials of one labeled-set size.
 * Trials are paired: trial t of both arms shares the seed, labeled subset, data order and augmentation, so
 * the per-trial differences d_t carry the comparison. Two criteria, both printed:
 * <ul>
 *   <li>the gap exceeds the spread: |mean(DenseCL) - mean(Kaiming)| > the larger of the two sample standard
 *       deviations (n - 1 denominator) - a plain reading of "is the gap bigger than the noise";</li>
 *   <li>the paired t statistic t = mean(d) / (sd(d) / sqrt(n)) with n - 1 degrees of freedom, against the
 *       two-sided 5% critical value of Student's t.</li>
 * </ul>
 * With one trial neither is defined (NaN).
 */
public record Comparison(Stats densecl, Stats kaiming, double gap, double pairedT, int df, double tCritical) {

    /** Mean, sample standard deviation (NaN for n = 1) and n of one arm's values. */
    public record Stats(double mean, double std, int n) {
        public static Stats of(double[] v) {
            if (v.length == 0) {
                throw new IllegalArgumentException("no values to summarise");
            }
            double mean = 0;
            for (double x : v) {
                mean += x;
            }
            mean /= v.length;
            double ss = 0;
            for (double x : v) {
                ss += (x - mean) * (x - mean);
            }
            return new Stats(mean, v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : Double.NaN, v.length);
        }
    }

    /**
     * Student's t two-sided 5% critical values t(0.975, df) for df = 1..30 (standard tables); beyond 30 the
     * normal's 1.96 is within 2% of the truth.
     */
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
            2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
            2.056, 2.052, 2.048, 2.045, 2.042};

    /** Paired values: {@code densecl[t]} and {@code kaiming[t]} come from trial t. */
    public static Comparison of(double[] densecl, double[] kaiming) {
        if (densecl.length != kaiming.length) {
            throw new IllegalArgumentException("paired comparison of " + densecl.length + " DenseCL and " + kaiming.length
                    + " Kaiming values");
        }
        int n = densecl.length;
        double[] d = new double[n]; // (trials) per-trial gaps
        for (int t = 0; t < n; t++) {
            d[t] = densecl[t] - kaiming[t];
        }
        Stats a = Stats.of(densecl), b = Stats.of(kaiming), g = Stats.of(d);
        double t = n > 1 ? g.mean() / (g.std() / Math.sqrt(n)) : Double.NaN; // +-Infinity when every gap is equal
        int df = n - 1;
        double crit = df < 1 ? Double.NaN : df <= T975.length ? T975[df - 1] : 1.96;
        return new Comparison(a, b, a.mean() - b.mean(), t, df, crit);
    }

    public static Comparison of(List<Double> densecl, List<Double> kaiming) {
        return of(densecl.stream().mapToDouble(Double::doubleValue).toArray(),
                kaiming.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** The larger of the two arms' standard deviations (NaN with one trial). */
    public double largerStd() {
        return Math.max(densecl.std(), kaiming.std());
    }

    /** |gap| > the larger standard deviation; false when undefined. */
    public boolean exceedsSpread() {
        return Math.abs(gap) > largerStd();
    }

    /** |paired t| > t(0.975, n - 1); false when undefined. */
    public boolean significant() {
        return Math.abs(pairedT) > tCritical;
    }
}
