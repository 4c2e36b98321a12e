package org.densecl.backend;

import java.io.PrintStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Wall time per backend op, for {@code ./densecl bench step --profile}: a {@link Proxy} in front of a
 * {@link Backend} that times every call while recording is on. The host backends return from an op when its
 * work is done (their threads join inside the call), so a call's wall time is the op's time. Convolutions are keyed by their shape, so the table shows
 * which layers cost, with the GFLOP/s each reached (conv: 2 N P Q K R S C per call; gemm: 2 m n k). A device
 * backend returns from an op once it is queued, so for one the profile waits for the device before and after
 * each op: each op's own time, at the cost of the overlap between ops (the profiled step is slower).
 *
 * <p>Not for training runs: the proxy costs about a microsecond per call (reflection), noise beside ops of
 * milliseconds, and the map it updates is not thread-safe (one caller thread, as a training step has).
 */
public final class OpProfile implements InvocationHandler {
    private final Backend target;
    private final Backend proxy;
    private final Map<String, double[]> rows = new LinkedHashMap<>(); // key -> {calls, seconds, flops}
    private boolean recording;

    private OpProfile(Backend target) {
        this.target = target;
        this.proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                this);
    }

    /** A profile of {@code target}; use {@link #backend()} in its place. Recording starts off. */
    public static OpProfile of(Backend target) {
        return new OpProfile(target);
    }

    /** The timed backend: hand this to the model instead of the target. */
    public Backend backend() {
        return proxy;
    }

    /** Starts (true) or pauses (false) recording, e.g. on after the warm-up steps. */
    public void record(boolean on) {
        recording = on;
    }

    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        if (!recording || method.getDeclaringClass() == Object.class) {
            return call(method, args);
        }
        boolean device = !target.isHost();
        if (device) {
            target.synchronize();
        }
        long t0 = System.nanoTime();
        Object result = call(method, args);
        if (device) {
            target.synchronize();
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        double[] row = rows.computeIfAbsent(key(method, args), k -> new double[3]);
        row[0]++;
        row[1] += seconds;
        row[2] += flops(method, args);
        return result;
    }

    private Object call(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause(); // the op's own exception, unwrapped
        }
    }

    /** "conv2dForward 3x3/1 64->64 at 56x56": convolutions by shape, other ops by name. */
    private static String key(Method method, Object[] args) {
        if (args != null && args.length > 0 && args[0] instanceof ConvGeometry g) {
            return String.format(Locale.ROOT, "%s %dx%d/%d %d->%d at %dx%d", method.getName(), g.r(), g.s(),
                    g.strideH(), g.c(), g.k(), g.h(), g.w());
        }
        return method.getName();
    }

    private static double flops(Method method, Object[] args) {
        if (args != null && args.length > 0 && args[0] instanceof ConvGeometry g) {
            return g.flops();
        }
        if (method.getName().equals("gemm") && args.length > 4) {
            return 2.0 * (int) args[2] * (int) args[3] * (int) args[4];
        }
        return 0;
    }

    /**
     * Prints the ops sorted by time, per step: calls, milliseconds, share of the step's wall time, GFLOP/s
     * where the op has a FLOP count; at most {@code top} rows, the rest summed in one line.
     */
    public void print(PrintStream out, int steps, double stepSeconds, int top) {
        List<Map.Entry<String, double[]>> sorted = new ArrayList<>(rows.entrySet());
        sorted.sort(Comparator.comparingDouble((Map.Entry<String, double[]> e) -> -e.getValue()[1]));
        double total = 0;
        for (var e : sorted) {
            total += e.getValue()[1];
        }
        out.printf(Locale.ROOT, "  per step: %-46s %6s %9s %7s %8s%n", "op", "calls", "ms", "share", "GFLOP/s");
        double rest = 0, restCalls = 0;
        for (int i = 0; i < sorted.size(); i++) {
            double[] r = sorted.get(i).getValue();
            if (i >= top) {
                rest += r[1];
                restCalls += r[0];
                continue;
            }
            out.printf(Locale.ROOT, "            %-46s %6.0f %9.1f %6.1f%% %8s%n", sorted.get(i).getKey(), r[0] / steps,
                    1e3 * r[1] / steps, 100 * r[1] / steps / stepSeconds,
                    r[2] > 0 ? String.format(Locale.ROOT, "%.1f", r[2] / r[1] / 1e9) : "");
        }
        if (rest > 0) {
            out.printf(Locale.ROOT, "            %-46s %6.0f %9.1f %6.1f%%%n", "(" + (sorted.size() - top) + " more)",
                    restCalls / steps, 1e3 * rest / steps, 100 * rest / steps / stepSeconds);
        }
        out.printf(Locale.ROOT, "            %-46s %6s %9.1f %6.1f%% (the rest is outside backend ops)%n", "all ops", "",
                1e3 * total / steps, 100 * total / steps / stepSeconds);
        printByOp(out, steps, stepSeconds);
    }

    // The same rows summed per op over all shapes: where the step's time goes by kind of work.
    private void printByOp(PrintStream out, int steps, double stepSeconds) {
        Map<String, double[]> byOp = new LinkedHashMap<>(); // op -> {calls, seconds, flops}
        for (var e : rows.entrySet()) {
            String op = e.getKey().split(" ", 2)[0];
            double[] sum = byOp.computeIfAbsent(op, k -> new double[3]);
            for (int i = 0; i < 3; i++) {
                sum[i] += e.getValue()[i];
            }
        }
        List<Map.Entry<String, double[]>> sorted = new ArrayList<>(byOp.entrySet());
        sorted.sort(Comparator.comparingDouble((Map.Entry<String, double[]> e) -> -e.getValue()[1]));
        out.printf(Locale.ROOT, "  by op:    %-46s %6s %9s %7s %8s%n", "op", "calls", "ms", "share", "GFLOP/s");
        for (var e : sorted) {
            double[] r = e.getValue();
            out.printf(Locale.ROOT, "            %-46s %6.0f %9.1f %6.1f%% %8s%n", e.getKey(), r[0] / steps,
                    1e3 * r[1] / steps, 100 * r[1] / steps / stepSeconds,
                    r[2] > 0 ? String.format(Locale.ROOT, "%.1f", r[2] / r[1] / 1e9) : "");
        }
    }
}
