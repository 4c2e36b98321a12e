package org.densecl.nn;

/**
 * A learning rate as a function of the 0-based iteration, with mmcv's formulas (the hooks OpenSelfSup and
 * mmsegmentation 0.x use), so a config from those projects gives the same rates:
 * <ul>
 *   <li>{@link #cosine}: min + (base - min) * (1 + cos(pi * t / T)) / 2 (CosineAnnealingLrUpdaterHook);</li>
 *   <li>{@link #poly}: (base - min) * (1 - t / T)^power + min (PolyLrUpdaterHook; mmseg: power 0.9,
 *       min 1e-4, per iteration);</li>
 *   <li>{@link #perEpoch}: evaluates a schedule at t = iteration / itersPerEpoch, the epoch count, so the rate
 *       changes only at epoch starts (mmcv's by_epoch=True: DenseCL's cosine over 200 epochs);</li>
 *   <li>{@link #withLinearWarmup}: for the first W iterations, rate = regular * (1 - (1 - i/W) * (1 - ratio)),
 *       rising linearly from ratio * regular (mmcv's warmup='linear', always per iteration).</li>
 * </ul>
 * t and T are in the same unit (iterations, or epochs under perEpoch); t is clamped to T.
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate for 0-based iteration {@code iter}. */
    double lr(long iter);

    static LrSchedule constant(double lr) {
        return iter -> lr;
    }

    /** Cosine annealing from {@code base} at t = 0 to {@code min} at t = total. */
    static LrSchedule cosine(double base, double min, long total) {
        requirePositive("cosine", total);
        return t -> min + (base - min) * (1 + Math.cos(Math.PI * Math.min(t, total) / total)) / 2;
    }

    /** Polynomial decay from {@code base} at t = 0 to {@code min} at t = total. */
    static LrSchedule poly(double base, double power, double min, long total) {
        requirePositive("poly", total);
        return t -> (base - min) * Math.pow(1 - (double) Math.min(t, total) / total, power) + min;
    }

    /** {@code perEpoch} evaluated at the epoch of each iteration (integer division). */
    static LrSchedule perEpoch(LrSchedule perEpoch, long itersPerEpoch) {
        requirePositive("perEpoch", itersPerEpoch);
        return iter -> perEpoch.lr(iter / itersPerEpoch);
    }

    /** Linear warm-up over the first {@code warmupIters} iterations, starting at {@code ratio} of the rate. */
    static LrSchedule withLinearWarmup(LrSchedule regular, long warmupIters, double ratio) {
        if (warmupIters < 0 || ratio < 0 || ratio > 1) {
            throw new IllegalArgumentException("LrSchedule: warm-up needs warmupIters >= 0 and 0 <= ratio <= 1, got "
                    + warmupIters + " and " + ratio);
        }
        return iter -> {
            double lr = regular.lr(iter);
            if (iter >= warmupIters) {
                return lr;
            }
            double k = (1 - (double) iter / warmupIters) * (1 - ratio);
            return lr * (1 - k);
        };
    }

    private static void requirePositive(String what, long n) {
        if (n <= 0) {
            throw new IllegalArgumentException("LrSchedule." + what + ": the length must be positive, not " + n);
        }
    }
}
