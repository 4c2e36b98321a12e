package org.densecl.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * What the two host backends (ref, cpu) share: memory from one shared arena that lives until
 * {@link #close()}, and host-side copies. The arena is shared (not confined) because the cpu backend's
 * worker threads read and write the same slabs.
 */
public abstract class HostBackend implements Backend {
    private final Arena arena = Arena.ofShared();

    @Override
    public boolean isHost() {
        return true;
    }

    @Override
    public MemorySegment allocateBytes(long bytes) {
        // Zero-filled either way: the JDK fills arena memory, anonymous mmap memory is zero. Large buffers
        // go on huge pages (see HugePages: with 4 KiB pages a ResNet-50 step keeps missing the TLB).
        return HugePages.allocate(arena, Math.max(bytes, 1));
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        Check.numel("upload", "dst", dst, src.length);
        if (dst.dtype() == DType.F32) {
            MemorySegment.copy(src, 0, dst.data(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, src.length);
        } else {
            Check.that(dst.dtype() == DType.F64, "upload", "dst is " + dst.dtype() + "; float data needs F32 or F64");
            for (int i = 0; i < src.length; i++) {
                dst.set(i, src[i]);
            }
        }
    }

    @Override
    public void upload(int[] src, Tensor dst) {
        Check.numel("upload", "dst", dst, src.length);
        Check.dtype("upload", "dst", dst, DType.I32);
        MemorySegment.copy(src, 0, dst.data(), java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0, src.length);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        Check.numel("download", "src", src, dst.length);
        if (src.dtype() == DType.F32) {
            MemorySegment.copy(src.data(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, dst, 0, dst.length);
        } else {
            for (int i = 0; i < dst.length; i++) {
                dst[i] = (float) src.get(i);
            }
        }
    }

    @Override
    public void zero(Tensor x) {
        x.data().fill((byte) 0);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        Check.numel("copy", "dst", dst, src.numel());
        Check.that(src.dtype() == dst.dtype(), "copy", "src is " + src.dtype() + " but dst is " + dst.dtype());
        MemorySegment.copy(src.data(), 0, dst.data(), 0, src.byteSize());
    }

    @Override
    public void close() {
        arena.close();
    }
}
