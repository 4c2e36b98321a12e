package org.densecl.backend.cpu.gemm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The pure-Java GEMM driver, GotoBLAS/BLIS structure: C (m, n) = alpha * A (m, k) * B (k, n) + beta * C,
 * with A and B given as {@link ASource} and {@link BSource} (a plain matrix, or an im2col view of an NHWC
 * tensor).
 *
 * <pre>
 * for jc in n step NC                B block (KC x NC) packed into 16-wide panels: lives in L3
 *   for pc in k step KC              (beta applies to the first KC block only, then C accumulates)
 *     for ic in m step MC            A block (MC x KC) packed into 6-high panels: lives in L2
 *       for j0 in nc step NL2        a B slice of NL2 columns (192 KB): lives in L2
 *         for ir in mc step MR       one A panel (6 x KC = 6 KB): stays in L1 across the jr loop
 *           for jr in slice step NR  6x16 micro-kernel; C is written along rows
 * </pre>
 *
 * Parallel axis, three modes:
 * <ul>
 *   <li>split-k ({@link #splitsK}): few rows, small C, long k, A transposed: conv weight gradients,
 *       m = K output channels, n = C or R*S*C, k = N*P*Q pixels, up to 10^5. The threads take k blocks
 *       (KC deep) from a shared counter and run each on all of C: block 0 into C itself, block q into the
 *       thread's partial C, which it adds to C as soon as blocks 0 .. q-1 are in. So C is summed block
 *       after block, ((C + s0) + s1) + ..., exactly as the serial nest sums it: the same bits as the slab
 *       mode, whichever thread ran which block. Nothing is packed twice (column slabs each pack all of
 *       A, row slabs all of B), and a thread that falls behind costs at most one block.</li>
 *   <li>enough rows (at least two MC blocks per thread): the threads pack each B block together, then
 *       take MC row blocks from a shared counter (BLIS's ic loop), each packing its own A block. Dynamic
 *       hand-out keeps both cores busy when one of them is shared with other work. Whole-k variant, when
 *       all of B's KC blocks for the column block fit {@link #WHOLE_K_FLOATS}: the threads pack them all
 *       at once, then each row block runs through every KC block (pc loop inside the ic loop), so the
 *       threads meet at one barrier per column block instead of one per KC block. A transposed A (dY^T)
 *       is then packed whole first too, k block by k block, each a sequential read of dY's rows.</li>
 *   <li>few rows otherwise (e.g. forward convolutions at 7x7): C is cut into one column slab per
 *       thread (rows if m > n), and each thread runs the whole loop nest on its slab with its own buffers.
 *       The shared operand is packed once per thread, which costs 1/(slab width) of the arithmetic.</li>
 * </ul>
 *
 * <p>Buffers are allocated once (per thread slot, on first use) and reused; {@link #run} is
 * synchronized, so one driver serves one GEMM at a time (its threads are busy with it anyway).
 */
public final class VectorGemm {
    /** Micro-tile: 6 rows x two vectors' columns (16 floats with 8-float vectors, 32 with 16-float ones). */
    public static final int MR = MicroKernel.MR;
    public static final int NR = MicroKernel.NR;
    /** Cache blocks for a Zen 3 core (32 KB L1d, 512 KB L2): A block 144 x 256 floats = 144 KB. */
    public static final int MC = 144;
    public static final int KC = 256;
    public static final int NC = 4080 / NR * NR;
    /** Columns of the B block kept in L2 while the A panels pass over them: 256 x 192 floats = 192 KB. */
    static final int NL2 = 192;

    // Unused floats after each per-thread buffer (two cache lines), so that no line holds the live end
    // of one thread's buffer and the start of another's, whoever allocated them next to each other.
    private static final int PAD = 32;

    private final Parallel parallel;
    private final float[][] aBuffers;   // per thread slot: (MC/MR panels, KC, MR)
    private final float[][] bBuffers;   // per thread slot: (NC/NR panels, KC, NR); slot 0 is the shared one
    private final float[][] tiles;      // per thread slot: (MR, NR)
    private final AtomicInteger nextBlock = new AtomicInteger();
    private final IntConsumer slabBody = this::runSlab;
    private final IntConsumer packBody = this::packSharedB;
    private final IntConsumer blockBody = this::runRowBlocks;
    private final IntConsumer packWholeBody = this::packWholeB;
    private final IntConsumer wholeBody = this::runWholeK;
    private final IntConsumer splitKBody = this::runSplitKBlocks;
    /** Most elements of C (1 MB) for the split-k mode: each thread but the first has a partial C this big. */
    static final long SPLIT_K_MAX_MN = 1L << 18;
    /** Least k for the split-k mode: four k blocks. */
    static final int SPLIT_K_MIN_K = 4 * KC;
    /**
     * Least elements of C for the split-k mode. Below it a k block is a few microseconds of arithmetic, and
     * each block waits for the other thread's previous one: the hand-offs, not the FMAs, set the time (the
     * 8- to 32-channel filter gradients of the quick recipes' models).
     */
    static final long SPLIT_K_MIN_MN = 1024;
    /** The paths this driver may take; the split-k mode adds the k blocks to C in the serial order. */
    private final GemmTuning paths;
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final MemorySegment[] partials; // per thread slot: (m, n) partial C of the split-k mode
    private int blocks;                     // split-k mode: k blocks of the GEMM in flight
    private final AtomicInteger folded = new AtomicInteger(); // split-k mode: k blocks added to C so far
    private volatile boolean abandoned;     // split-k mode: a part failed, so waiting for its block is futile
    /**
     * Largest B (all k rows of one NC column block, packed) the whole-k variant of the shared-B mode takes:
     * 16 MB, every ResNet-50 conv GEMM at batch 8 but the stem's filter gradient (59 MB).
     */
    static final int WHOLE_K_FLOATS = 1 << 22;
    private float[] wholeB = new float[0]; // (k blocks, NC/NR panels, kc, NR): B of one column block
    private float[] wholeA = new float[0]; // (k blocks, m/MR panels, kc, MR): all of a transposed A
    private int aRegion;                   // floats per k block in wholeA: ceil(m / MR) * MR * KC
    private boolean aPacked;               // the GEMM in flight reads A from wholeA
    private final IntConsumer packWholeABody = this::packWholeA;

    // The GEMM in flight, read by the bodies on the worker threads (published by the executor hand-off).
    private int m, n, k, parts;
    private boolean splitColumns;
    private float alpha, beta;
    private ASource a;
    private BSource b;
    private MemorySegment c;
    private long cOff;
    private int ldc;
    // The (jc, pc) block in flight in the shared-B mode.
    private int jc, nc, pc, kc;
    private float betaBlock;
    private int rowBlock; // rows per ic block in the shared-B mode: at most MC, sized so threads get equal shares

    public VectorGemm(Parallel parallel, GemmTuning paths) {
        this.parallel = parallel;
        this.paths = paths;
        int t = parallel.threads();
        this.aBuffers = new float[t][];
        this.bBuffers = new float[t][];
        this.tiles = new float[t][];
        this.partials = new MemorySegment[t];
    }

    /** The paths this driver may take. */
    public GemmTuning paths() {
        return paths;
    }

    /** The thread pool this driver splits its work over. */
    public Parallel parallel() {
        return parallel;
    }

    /**
     * C = alpha * A * B + beta * C, where C's element (i, j) is the float at byte
     * {@code cOff + 4 * (i * ldc + j)} of {@code c}. beta = 0 ignores C's old contents (even NaN).
     * Sizes must be positive; the caller handles empty problems.
     */
    public synchronized void run(int m, int n, int k, float alpha, ASource a, BSource b, float beta,
                                 MemorySegment c, long cOff, int ldc) {
        this.m = m;
        this.n = n;
        this.k = k;
        this.alpha = alpha;
        this.beta = beta;
        this.a = a;
        this.b = b;
        this.c = c;
        this.cOff = cOff;
        this.ldc = ldc;
        int threads = parallel.threads();
        try {
            if (alpha == 1f && splitsK(threads, m, n, k, a.interleaved())) {
                runSplitK(threads);
            } else if (sharesB(threads, m)) {
                runSharedB(threads);
            } else {
                splitColumns = n >= m;
                int units = splitColumns ? ceilDiv(n, NR) : ceilDiv(m, MR);
                parts = Math.max(1, Math.min(threads, units));
                parallel.forEach(parts, slabBody);
            }
        } finally {
            this.a = null;
            this.b = null;
            this.c = null;
        }
    }

    /**
     * Whether a GEMM of these sizes takes the split-k mode: where the slab mode would take it otherwise
     * (more than one thread, too few rows for the shared-B mode), with A transposed (dY^T: a filter
     * gradient, k = pixels). Column slabs would each pack all of A, row slabs all of B. Forward GEMMs of
     * the same sizes and the gradients the shared-B mode takes lose with it, so they keep their modes
     * (the performance page has the comparison). The driver takes it only with alpha 1: then a block's
     * partial, alpha * s, is s, and adding it to C rounds as the slab mode's C + s does.
     */
    public boolean splitsK(int threads, int m, int n, int k, boolean transposedA) {
        return paths.splitK() && threads > 1 && transposedA && !sharesB(threads, m) && (long) m * n <= SPLIT_K_MAX_MN
                && (long) m * n >= SPLIT_K_MIN_MN && k >= SPLIT_K_MIN_K;
    }

    /** Whether a GEMM with m rows takes the shared-B mode (unless it takes the split-k mode). */
    static boolean sharesB(int threads, int m) {
        return threads > 1 && ceilDiv(m, MC) >= 2 * threads;
    }

    // ------------------------------------------------------------------ split-k mode

    private void runSplitK(int threads) {
        blocks = ceilDiv(k, KC);
        for (int t = 0; t < threads; t++) {
            partial(t); // allocated here, not on the workers
        }
        nextBlock.set(0);
        folded.set(0);
        abandoned = false;
        parallel.forEach(threads, splitKBody);
    }

    // Takes k blocks from the shared counter until none are left. Block 0 goes straight into C (with
    // beta, as the first block of the serial loop nest does); block q > 0 into this thread's partial C
    // (beta 0), which is then added to C once blocks 0 .. q-1 are in: C = ((C + s0) + s1) + ..., the order
    // of the serial nest, whichever thread ran which block.
    private void runSplitKBlocks(int part) {
        try {
            for (int q = nextBlock.getAndIncrement(); q < blocks; q = nextBlock.getAndIncrement()) {
                int p0 = q * KC, p1 = Math.min(k, p0 + KC);
                if (q == 0) {
                    serial(part, 0, m, 0, n, p0, p1, c, cOff, ldc, beta);
                } else {
                    MemorySegment mine = partial(part);
                    serial(part, 0, m, 0, n, p0, p1, mine, 0L, n, 0f);
                    awaitFolded(q);
                    for (int i = 0; i < m; i++) {
                        addRow(mine, 4L * i * n, c, cOff + 4L * i * ldc, n);
                    }
                }
                folded.set(q + 1);
            }
        } catch (RuntimeException | Error e) {
            abandoned = true; // the other thread may be waiting for a block this one will never add
            throw e;
        }
    }

    // Waits until blocks 0 .. q-1 have been added to C. Spins first (a block takes about a millisecond),
    // then yields, so that a descheduled holder of block q-1 gets the core back.
    private void awaitFolded(int q) {
        for (int spin = 0; folded.get() < q; spin++) {
            if (abandoned) {
                throw new IllegalStateException("VectorGemm: split-k block " + q + " abandoned, another part failed");
            }
            if (spin < 1 << 12) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    // dst[0..n) += src[0..n), floats from byte offsets srcOff and dstOff.
    private static void addRow(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, int n) {
        int j = 0;
        for (; j + S.length() <= n; j += S.length()) {
            long d = dstOff + 4L * j;
            FloatVector.fromMemorySegment(S, dst, d, LE)
                    .add(FloatVector.fromMemorySegment(S, src, srcOff + 4L * j, LE))
                    .intoMemorySegment(dst, d, LE);
        }
        for (; j < n; j++) {
            long d = dstOff + 4L * j;
            dst.set(MatrixPanels.F32, d, dst.get(MatrixPanels.F32, d) + src.get(MatrixPanels.F32, srcOff + 4L * j));
        }
    }

    // Thread slot `slot`'s partial C (m, n) for the split-k mode: grown on demand, kept.
    private MemorySegment partial(int slot) {
        MemorySegment buf = partials[slot];
        long bytes = 4L * m * n;
        if (buf == null || buf.byteSize() < bytes) {
            buf = Arena.ofAuto().allocate(bytes + 4L * PAD, 64);
            partials[slot] = buf;
        }
        return buf;
    }

    // ------------------------------------------------------------------ shared-B mode

    private void runSharedB(int threads) {
        parts = threads;
        // Equal blocks, a whole number per thread: 2048 rows become 16 blocks of 128, not 14 of 144 and
        // a sliver, so no thread idles at the barrier that ends each KC step.
        int blocks = threads * ceilDiv(m, threads * MC);
        rowBlock = ceilDiv(ceilDiv(m, blocks), MR) * MR;
        bBuffer(0); // allocated here, before the packing threads race to it
        aPacked = false;
        aRegion = ceilDiv(m, MR) * MR * KC;
        long aFloats = (long) ceilDiv(k, KC) * aRegion;
        long bFloats = (long) ceilDiv(k, KC) * KC * ceilDiv(Math.min(NC, n), NR) * NR; // the whole-k test below
        if (paths.wholeK() && paths.packWholeA() && a.interleaved() && aFloats <= WHOLE_K_FLOATS && bFloats <= WHOLE_K_FLOATS) {
            if (wholeA.length < aFloats + PAD) {
                wholeA = new float[(int) aFloats + PAD];
            }
            parts = Math.min(threads, ceilDiv(k, KC));
            parallel.forEach(parts, packWholeABody);
            parts = threads;
            aPacked = true;
        }
        for (jc = 0; jc < n; jc += NC) {
            nc = Math.min(NC, n - jc);
            long wholeFloats = (long) ceilDiv(k, KC) * KC * ceilDiv(nc, NR) * NR;
            if (paths.wholeK() && wholeFloats <= WHOLE_K_FLOATS) {
                if (wholeB.length < wholeFloats + PAD) {
                    wholeB = new float[(int) wholeFloats + PAD];
                }
                parallel.forEach(Math.min(threads, ceilDiv(nc, NR)), packWholeBody);
                nextBlock.set(0);
                parallel.forEach(threads, wholeBody);
                continue;
            }
            for (pc = 0; pc < k; pc += KC) {
                kc = Math.min(KC, k - pc);
                betaBlock = pc == 0 ? beta : 1f;
                parallel.forEach(Math.min(threads, ceilDiv(nc, NR)), packBody);
                nextBlock.set(0);
                parallel.forEach(threads, blockBody);
            }
        }
    }

    // Whole-A packing of a transposed A: part `part` packs k blocks part, part + parts, ..., each for all
    // m rows: a sequential read of the k block's rows of dY, at wholeA[pb * aRegion ..] (panel q at
    // + q * MR * kc). Packed per row block instead, each block would read a narrow channel window out of
    // every row of dY, a strided read.
    private void packWholeA(int part) {
        for (int pb = part; pb * KC < k; pb += parts) {
            a.packA(wholeA, pb * aRegion, 0, m, pb * KC, Math.min(KC, k - pb * KC));
        }
    }

    // Whole-k variant: part `part` packs its share of the B panels of every k block of this column block,
    // k block pb at wholeB[pb * KC * ncPadded ..] (panels of that block's kc rows).
    private void packWholeB(int part) {
        int panels = ceilDiv(nc, NR), ncPadded = panels * NR;
        int packers = Math.min(parts, panels);
        int q0 = panels * part / packers, q1 = panels * (part + 1) / packers;
        int j0 = q0 * NR, j1 = Math.min(nc, q1 * NR);
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kcb = Math.min(KC, k - p0);
            b.packB(wholeB, p0 / KC * KC * ncPadded + j0 * kcb, jc + j0, j1 - j0, p0, kcb);
        }
    }

    // Whole-k variant: takes row blocks from the shared counter and runs each through every k block, so
    // that the only barrier is the one after packing B (with a barrier per k block, the thread that
    // finishes its rows first waits for the other).
    private void runWholeK(int part) {
        float[] ap = aBuffer(part), tile = tile(part);
        int blocks = ceilDiv(m, rowBlock), ncPadded = ceilDiv(nc, NR) * NR;
        for (int blk = nextBlock.getAndIncrement(); blk < blocks; blk = nextBlock.getAndIncrement()) {
            int ic = blk * rowBlock;
            int mc = Math.min(rowBlock, m - ic);
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kcb = Math.min(KC, k - p0);
                float[] as = ap;
                int aOff = 0;
                if (aPacked) {
                    as = wholeA;
                    aOff = p0 / KC * aRegion + ic * kcb; // row block ic's first panel in k block p0 / KC
                } else {
                    a.packA(ap, 0, ic, mc, p0, kcb);
                }
                macroKernel(as, aOff, wholeB, p0 / KC * KC * ncPadded, tile, ic, mc, jc, nc, kcb, c, cOff, ldc,
                        p0 == 0 ? beta : 1f);
            }
        }
    }

    // Part `part` packs its contiguous share of the current block's B panels into the shared buffer.
    private void packSharedB(int part) {
        float[] bp = bBuffer(0);
        int panels = ceilDiv(nc, NR);
        int packers = Math.min(parts, panels);
        int q0 = panels * part / packers, q1 = panels * (part + 1) / packers;
        int j0 = q0 * NR, j1 = Math.min(nc, q1 * NR);
        b.packB(bp, j0 * kc, jc + j0, j1 - j0, pc, kc);
    }

    // Takes row blocks from the shared counter until none are left.
    private void runRowBlocks(int part) {
        float[] ap = aBuffer(part), bp = bBuffer(0), tile = tile(part);
        int blocks = ceilDiv(m, rowBlock);
        for (int blk = nextBlock.getAndIncrement(); blk < blocks; blk = nextBlock.getAndIncrement()) {
            int ic = blk * rowBlock;
            int mc = Math.min(rowBlock, m - ic);
            a.packA(ap, 0, ic, mc, pc, kc);
            macroKernel(ap, 0, bp, 0, tile, ic, mc, jc, nc, kc, c, cOff, ldc, betaBlock);
        }
    }

    // ------------------------------------------------------------------ slab mode

    private void runSlab(int part) {
        if (splitColumns) {
            int units = ceilDiv(n, NR);
            int j0 = units * part / parts * NR;
            int j1 = Math.min(n, units * (part + 1) / parts * NR);
            serial(part, 0, m, j0, j1, 0, k, c, cOff, ldc, beta);
        } else {
            int units = ceilDiv(m, MR);
            int i0 = units * part / parts * MR;
            int i1 = Math.min(m, units * (part + 1) / parts * MR);
            serial(part, i0, i1, 0, n, 0, k, c, cOff, ldc, beta);
        }
    }

    // The five-loop nest on rows [i0, i1) x columns [j0, j1) of A * B over k in [p0, p1), single-threaded,
    // with thread slot `part`'s buffers, into the matrix cc (element (i, j) at byte cOffset + 4 (i ldcc + j))
    // with beta cBeta: C itself, or a partial C of the split-k mode.
    private void serial(int part, int i0, int i1, int j0, int j1, int p0, int p1, MemorySegment cc, long cOffset,
                        int ldcc, float cBeta) {
        float[] ap = aBuffer(part), bp = bBuffer(part), tile = tile(part);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = p0; pc < p1; pc += KC) {
                int kc = Math.min(KC, p1 - pc);
                float betaBlock = pc == p0 ? cBeta : 1f;
                b.packB(bp, 0, jc, nc, pc, kc);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    a.packA(ap, 0, ic, mc, pc, kc);
                    macroKernel(ap, 0, bp, 0, tile, ic, mc, jc, nc, kc, cc, cOffset, ldcc, betaBlock);
                }
            }
        }
    }

    // ------------------------------------------------------------------ shared

    // C[ic..ic+mc, jc..jc+nc] (+)= packed A block * packed B block. The B block is walked in L2-sized
    // slices of NL2 columns; within a slice each A panel (6 KB, L1) meets every B panel (from L2), so C
    // is written along its rows, 64 bytes after 64 bytes, a stream the hardware prefetcher follows. (The
    // BLIS order, B panel outer and A panel inner, walks C down its rows instead: with long rows every
    // tile is a fresh cache miss.)
    private void macroKernel(float[] ap, int aOff, float[] bp, int bOff, float[] tile, int ic, int mc, int jc,
                             int nc, int kc, MemorySegment c, long cOff, int ldc, float betaBlock) {
        long ldcBytes = 4L * ldc;
        boolean interleaved = a.interleaved();
        boolean direct = paths.directC() && alpha == 1f && (betaBlock == 0f || betaBlock == 1f);
        for (int j0 = 0; j0 < nc; j0 += NL2) {
            int j1 = Math.min(nc, j0 + NL2);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                long rowOff = cOff + 4L * ((long) (ic + ir) * ldc + jc);
                for (int jr = j0; jr < j1; jr += NR) {
                    int nr = Math.min(NR, nc - jr);
                    if (direct && mr == MR && nr == NR) {
                        if (interleaved) {
                            MicroKernel.multiplyInterleavedInto(kc, ap, aOff + ir * kc, bp, bOff + jr * kc, c,
                                    rowOff + 4L * jr, ldcBytes, betaBlock != 0f);
                        } else {
                            MicroKernel.multiplyInto(kc, ap, aOff + ir * KC, bp, bOff + jr * kc, c, rowOff + 4L * jr,
                                    ldcBytes, betaBlock != 0f);
                        }
                        continue;
                    }
                    if (interleaved) {
                        MicroKernel.multiplyInterleaved(kc, ap, aOff + ir * kc, bp, bOff + jr * kc, tile);
                    } else {
                        MicroKernel.multiply(kc, ap, aOff + ir * KC, bp, bOff + jr * kc, tile);
                    }
                    MicroKernel.update(tile, alpha, betaBlock, c, rowOff + 4L * jr, ldcBytes, mr, nr);
                }
            }
        }
    }

    private float[] aBuffer(int slot) {
        float[] buf = aBuffers[slot];
        if (buf == null) {
            buf = new float[MC * KC + PAD];
            aBuffers[slot] = buf;
        }
        return buf;
    }

    private float[] bBuffer(int slot) {
        float[] buf = bBuffers[slot];
        if (buf == null) {
            buf = new float[NC * KC + PAD];
            bBuffers[slot] = buf;
        }
        return buf;
    }

    private float[] tile(int slot) {
        float[] buf = tiles[slot];
        if (buf == null) {
            buf = new float[MR * NR + PAD];
            tiles[slot] = buf;
        }
        return buf;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }
}
