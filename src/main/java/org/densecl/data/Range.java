package org.densecl.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A closed interval [lo, hi] of a config value that is drawn anew for every image. In YAML it is a
 * two-element list {@code [lo, hi]}, or a single number for a fixed value.
 */
public record Range(double lo, double hi) {

    public Range {
        if (!Double.isFinite(lo) || !Double.isFinite(hi) || lo > hi) {
            throw new IllegalArgumentException("range must be [lo, hi] with lo <= hi, got [" + lo + ", " + hi + "]");
        }
    }

    public static Range of(double value) {
        return new Range(value, value);
    }

    /** Reads {@code [lo, hi]} or a plain number, as written in a config file. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Range parse(Object v) {
        if (v instanceof Number n) {
            return of(n.doubleValue());
        }
        if (v instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Number a && l.get(1) instanceof Number b) {
            return new Range(a.doubleValue(), b.doubleValue());
        }
        throw new IllegalArgumentException("expected a number or [lo, hi], got " + v);
    }

    @JsonValue
    public Object json() {
        return lo == hi ? (Object) lo : List.of(lo, hi);
    }

    /** Uniform draw in [lo, hi]. */
    public double sample(SplittableRandom rng) {
        return lo == hi ? lo : lo + (hi - lo) * rng.nextDouble();
    }

    /** Log-uniform draw in [lo, hi] (both must be positive): each octave is equally likely. */
    public double sampleLog(SplittableRandom rng) {
        if (lo <= 0) {
            throw new IllegalArgumentException("log-uniform range needs lo > 0, got " + this);
        }
        return lo == hi ? lo : lo * StrictMath.exp(StrictMath.log(hi / lo) * rng.nextDouble());
    }

    public double mid() {
        return 0.5 * (lo + hi);
    }

    /** Throws naming {@code what} when the range leaves [min, max]. */
    public Range require(String what, double min, double max) {
        if (lo < min || hi > max) {
            throw new IllegalArgumentException(what + " must lie in [" + min + ", " + max + "], got [" + lo + ", " + hi + "]");
        }
        return this;
    }
}
