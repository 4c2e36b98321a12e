package org.densecl.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernelParams array of cuLaunchKernel, allocated once and reused for every launch: MAX_ARGS 8-byte
 * value slots and an array of pointers to them. Packing an argument writes its value into the next slot;
 * the driver reads each slot with the size the kernel's signature gives it (4 for int and float, 8 for
 * pointers and long long) and copies the values before cuLaunchKernel returns, so the slots are free
 * again at once. One instance is shared by the launches of a {@link CudaKernels}, which serialises them
 * (pack then launch under one lock): no allocation per launch, and no per-thread buffers to leak.
 */
final class KernelArgs {
    static final int MAX_ARGS = 16;
    private static final long SLOT = 8;

    private final MemorySegment values;   // (MAX_ARGS) 8-byte slots
    private final MemorySegment pointers; // (MAX_ARGS) void*: pointers[i] = &values[i]
    private final char[] kinds = new char[MAX_ARGS]; // per slot: P pointer, L long long, I int, F float
    private int count;

    KernelArgs(Arena arena) {
        values = arena.allocate(SLOT * MAX_ARGS, SLOT);
        pointers = arena.allocate(ValueLayout.ADDRESS, MAX_ARGS);
        for (int i = 0; i < MAX_ARGS; i++) {
            pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(i * SLOT, SLOT));
        }
    }

    /** Starts packing a new launch. */
    KernelArgs begin() {
        count = 0;
        return this;
    }

    /** A device pointer (0 for NULL). */
    KernelArgs ptr(long devicePointer) {
        values.set(ValueLayout.JAVA_LONG, next('P'), devicePointer);
        return this;
    }

    KernelArgs i64(long v) {
        values.set(ValueLayout.JAVA_LONG, next('L'), v);
        return this;
    }

    KernelArgs i32(int v) {
        values.set(ValueLayout.JAVA_INT, next('I'), v);
        return this;
    }

    /** A C int flag. */
    KernelArgs bool(boolean v) {
        return i32(v ? 1 : 0);
    }

    KernelArgs f32(float v) {
        values.set(ValueLayout.JAVA_FLOAT, next('F'), v);
        return this;
    }

    /** The kinds of the packed arguments in order (P pointer, L long long, I int, F float): tests compare it. */
    String kinds() {
        return new String(kinds, 0, count);
    }

    /** The void** array to hand to cuLaunchKernel. */
    MemorySegment params() {
        return pointers;
    }

    private long next(char kind) {
        if (count == MAX_ARGS) {
            throw new IllegalStateException("a kernel launch packs more than " + MAX_ARGS + " arguments");
        }
        kinds[count] = kind;
        return SLOT * count++;
    }
}
