package org.densecl.cli;

import java.util.Locale;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * The spread of a comparison's per-round ratios (ours / PyTorch, one per alternated round): their geometric
 * mean and a 95% interval for it, Student's t on the logarithms. The rounds sample the host's drift, so the
 * interval says how far one run's ratio can be trusted: a run shows a speed target met only where the
 * interval's low end clears it.
 *
 * @param geometricMean exp(mean of the rounds' log ratios)
 * @param low           the interval's low end
 * @param high          the interval's high end
 * @param rounds        the rounds it was computed from
 */
record RoundRatios(double geometricMean, double low, double high, int rounds) {

    /** From two or more per-round ratios, each positive. */
    static RoundRatios of(double[] ratios) {
        int n = ratios.length;
        if (n < 2) {
            throw new IllegalArgumentException("RoundRatios: an interval needs at least 2 rounds, got " + n);
        }
        double sum = 0;
        for (double r : ratios) {
            if (!(r > 0) || Double.isInfinite(r)) {
                throw new IllegalArgumentException("RoundRatios: a round's ratio must be positive and finite, got " + r);
            }
            sum += Math.log(r);
        }
        double mean = sum / n, squares = 0;
        for (double r : ratios) {
            double d = Math.log(r) - mean;
            squares += d * d;
        }
        double sd = Math.sqrt(squares / (n - 1));
        // No random generator: the distribution is only asked for a quantile.
        double t = new TDistribution(null, n - 1).inverseCumulativeProbability(0.975);
        double half = t * sd / Math.sqrt(n);
        return new RoundRatios(Math.exp(mean), Math.exp(mean - half), Math.exp(mean + half), n);
    }

    /** The report line: the geometric mean, the interval's ends and the number of rounds. */
    String line() {
        return String.format(Locale.ROOT, "  ours / pytorch, rounds' ratios: geometric mean %.3f, 95%% interval"
                + " %.3f-%.3f (Student's t over %d rounds: how far the host's drift between rounds leaves this"
                + " run's ratio uncertain)", geometricMean, low, high, rounds);
    }
}
