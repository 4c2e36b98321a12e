package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.bound;
import static org.densecl.backend.cpu.CpuVec.f32;
import static org.densecl.backend.cpu.CpuVec.get;
import static org.densecl.backend.cpu.CpuVec.load;
import static org.densecl.backend.cpu.CpuVec.set;
import static org.densecl.backend.cpu.CpuVec.store;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import org.densecl.backend.Check;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.Tensor;

/**
 * Parameter updates: the SGD step (PyTorch semantics: weight decay, momentum, dampening 0, no
 * Nesterov) and the momentum encoder's EMA. Flat, memory bound: parallel over element ranges.
 */
final class CpuOptim {
    private final Parallel par;

    CpuOptim(Parallel par) {
        this.par = par;
    }

    /** g = grad + wd * param; buf = momentum * buf + g; param -= lr * buf. All three the same size. */
    void sgdStep(Tensor param, Tensor grad, Tensor buffer, float lr, float momentum, float weightDecay) {
        // Parallel over flat element ranges.
        String op = "sgdStep";
        f32(op, "param", param);
        f32(op, "grad", grad);
        f32(op, "momentumBuffer", buffer);
        Check.same(op, "grad", grad, "param", param);
        Check.same(op, "momentumBuffer", buffer, "param", param);
        MemorySegment ps = param.data(), gs = grad.data(), bs = buffer.data();
        FloatVector vm = FloatVector.broadcast(F, momentum), vwd = FloatVector.broadcast(F, weightDecay);
        FloatVector vlr = FloatVector.broadcast(F, -lr);
        CpuVec.range(par, param.numel(), 4, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                FloatVector p = load(ps, i);
                FloatVector b = load(bs, i).fma(vm, p.fma(vwd, load(gs, i)));
                store(b, bs, i);
                store(b.fma(vlr, p), ps, i);
            }
            for (; i < hi; i++) {
                float p = get(ps, i);
                float b = Math.fma(get(bs, i), momentum, Math.fma(p, weightDecay, get(gs, i)));
                set(bs, i, b);
                set(ps, i, Math.fma(b, -lr, p));
            }
        });
    }

    /** target = m * target + (1 - m) * source. */
    void emaUpdate(Tensor target, Tensor source, float m) {
        // Parallel over flat element ranges.
        String op = "emaUpdate";
        f32(op, "target", target);
        f32(op, "source", source);
        Check.same(op, "source", source, "target", target);
        MemorySegment ts = target.data(), ss = source.data();
        float oneMinusM = 1f - m;
        FloatVector vm = FloatVector.broadcast(F, m), vOneMinusM = FloatVector.broadcast(F, oneMinusM);
        CpuVec.range(par, target.numel(), 3, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                store(load(ts, i).fma(vm, load(ss, i).mul(vOneMinusM)), ts, i);
            }
            for (; i < hi; i++) {
                set(ts, i, Math.fma(get(ts, i), m, get(ss, i) * oneMinusM));
            }
        });
    }
}
