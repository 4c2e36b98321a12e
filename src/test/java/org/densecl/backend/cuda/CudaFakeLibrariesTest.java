package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.VsRef;
import org.densecl.backend.VsRef.Pair;
import org.densecl.model.ResNetStepParityTest;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the stand-in libraries record of the cuda backend's calls, without a GPU ({@link StandIns}): the compute
 * type and math modes each precision sets, the batch-norm mode and averaging factor handed to cuDNN, the
 * workspace the convolution plans size, cuBLAS's strided-batched GEMM on its own, and the out-of-memory message
 * through the driver. The ops themselves are compared with ref in {@link CudaOpsEmulatedTest}.
 */
class CudaFakeLibrariesTest {
    private static StandIns stand;
    private static MethodHandle cublasCompute, cublasMath, cudnnMath, cudnnBnMode, cudnnFactor, cudnnConvTypes;

    @BeforeAll
    static void build() throws Throwable {
        stand = StandIns.get();
        cublasCompute = intFunction(stand.cublas, "fake_cublas_last_compute");
        cublasMath = intFunction(stand.cublas, "fake_cublas_last_math");
        cudnnMath = intFunction(stand.cudnn, "fake_cudnn_last_math");
        cudnnBnMode = intFunction(stand.cudnn, "fake_cudnn_last_bn_mode");
        cudnnConvTypes = Linker.nativeLinker().downcallHandle(stand.cudnn.find("fake_cudnn_last_conv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        cudnnFactor = Linker.nativeLinker().downcallHandle(stand.cudnn.find("fake_cudnn_last_factor").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE));
    }

    private static MethodHandle intFunction(SymbolLookup lib, String name) {
        return Linker.nativeLinker().downcallHandle(lib.find(name).orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
    }

    private static CudaBackend backend(String options) {
        return stand.backend(options);
    }

    @Test
    void eachPrecisionSetsItsCublasComputeTypeAndMathMode() throws Throwable {
        int[][] expected = {{CudaPrecision.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_PEDANTIC_MATH},
            {CudaPrecision.CUBLAS_COMPUTE_32F_FAST_TF32, Cublas.CUBLAS_TF32_TENSOR_OP_MATH},
            {CudaPrecision.CUBLAS_COMPUTE_32F_FAST_16BF, Cublas.CUBLAS_TF32_TENSOR_OP_MATH}};
        String[] options = {"fp32", "", "bf16"};
        for (int i = 0; i < options.length; i++) {
            try (CudaBackend be = backend(options[i]); VsRef h = new VsRef(be)) {
                Pair a = h.uniform(1, -1, 1, 3, 4), b = h.uniform(2, -1, 1, 4, 5), c = h.zeros(3, 5);
                be.gemm(false, false, 3, 5, 4, 1f, a.dut(), b.dut(), 0f, c.dut());
                assertEquals(expected[i][0], (int) cublasCompute.invokeExact(), "compute type of '" + options[i] + "'");
                assertEquals(expected[i][1], (int) cublasMath.invokeExact(), "math mode of '" + options[i] + "'");
            }
        }
    }

    @Test
    void stridedBatchedGemmGivesTheSimilarityMatrices() throws Throwable {
        // The similarity matrices themselves (denseMatch keeps them in its scratch and returns the argmax).
        try (CudaBackend be = backend("fp32"); VsRef h = new VsRef(be)) {
            int n = 3, s2 = 5, c = 7;
            Pair qb = h.uniform(3, -1, 1, n, s2, c), kb = h.uniform(4, -1, 1, n, s2, c), sim = h.zeros(n, s2, s2);
            for (int i = 0; i < n; i++) {
                h.ref.gemm(false, true, s2, s2, c, 1f, qb.ref().slice((long) i * s2 * c, Shape.of(s2, c)),
                        kb.ref().slice((long) i * s2 * c, Shape.of(s2, c)), 0f,
                        sim.ref().slice((long) i * s2 * s2, Shape.of(s2, s2)));
            }
            Cublas direct = new Cublas(stand.cublas, 0, MemorySegment.NULL, 0, CudaPrecision.FP32);
            direct.gemmStridedBatched(false, true, s2, s2, c, 1f, qb.dut().data(), (long) s2 * c, kb.dut().data(),
                    (long) s2 * c, 0f, sim.dut().data(), (long) s2 * s2, n);
            direct.close();
            h.close("strided-batched similarities", sim, 1e-6, 1e-6);
        }
    }

    @Test
    void convolutionPlansSizeTheWorkspaceOnceToTheQueriedNeed() throws Throwable {
        try (CudaBackend be = backend("fp32"); VsRef h = new VsRef(be)) {
            CudaOpsTest.convolutions(h, be);
            assertEquals(CudaPrecision.CUDNN_FMA_MATH, (int) cudnnMath.invokeExact(), "strict: no tensor cores");
            // 5 shapes x 3 directions planned; the stand-in ranks first an algorithm whose workspace it
            // underestimates (512 KiB; its query says 1 MiB): the workspace grew once, to the queried size
            assertTrue(be.planSummary().startsWith("15 convolution plans, cuDNN workspace 1.0 MiB (grown 1x)"),
                    be.planSummary());
        }
        try (CudaBackend be = backend("tf32"); VsRef h = new VsRef(be)) {
            ConvGeometry g = ConvGeometry.of(1, 5, 5, 2, 3, 3, 1, 1, 1);
            Pair x = h.uniform(5, -1, 1, g.xShape().dims()), w = h.uniform(6, -1, 1, g.wShape().dims());
            be.conv2dForward(g, x.dut(), w.dut(), null, h.zeros(g.yShape().dims()).dut());
            assertEquals(CudaPrecision.CUDNN_TENSOR_OP_MATH, (int) cudnnMath.invokeExact(), "TF32 allowed");
        }
    }

    /**
     * bf16 mode hands cuDNN bf16 tensor and filter descriptors with an f32 compute type (PSEUDO_BFLOAT16_CONFIG)
     * and tensor-op math in every direction; tf32 and fp32 keep f32 descriptors. The stand-in records the
     * data types of the last convolution it ran.
     */
    @Test
    void bf16ConvolutionsUseBf16DescriptorsAndFloatCompute() throws Throwable {
        int bf = Cudnn.CUDNN_DATA_BFLOAT16, f32 = Cudnn.CUDNN_DATA_FLOAT;
        ConvGeometry g = ConvGeometry.of(2, 6, 5, 3, 4, 3, 1, 1, 1);
        for (String options : new String[] {"bf16", "", "fp32"}) {
            int data = options.equals("bf16") ? bf : f32;
            try (CudaBackend be = backend(options); VsRef h = new VsRef(be)) {
                Pair x = h.uniform(1, -1, 1, g.xShape().dims()), w = h.uniform(2, -1, 1, g.wShape().dims());
                Pair y = h.zeros(g.yShape().dims()), dw = h.zeros(g.wShape().dims());
                Runnable[] directions = {
                    () -> be.conv2dForward(g, x.dut(), w.dut(), null, y.dut()),
                    () -> be.conv2dBackwardData(g, y.dut(), w.dut(), x.dut()),
                    () -> be.conv2dBackwardFilter(g, x.dut(), y.dut(), dw.dut(), null)};
                for (Runnable direction : directions) {
                    direction.run();
                    int[] got = new int[4];
                    for (int i = 0; i < 4; i++) {
                        got[i] = (int) cudnnConvTypes.invokeExact(i);
                    }
                    assertEquals(java.util.Arrays.toString(new int[] {data, data, data, f32}),
                            java.util.Arrays.toString(got), "x, w, y data types and compute type of '" + options + "'");
                    assertEquals(options.equals("fp32") ? CudaPrecision.CUDNN_FMA_MATH : CudaPrecision.CUDNN_TENSOR_OP_MATH,
                            (int) cudnnMath.invokeExact(), "math type of '" + options + "'");
                }
            }
        }
    }

    /**
     * The stand-in cuDNN refuses, as cuDNN does (CUDNN_STATUS_NOT_SUPPORTED), the data-type configurations
     * outside FLOAT_CONFIG and PSEUDO_BFLOAT16_CONFIG: bf16 x and w with an f32 y, and bf16 data with a bf16
     * compute type (cuDNN has no true-bf16 configuration); it accepts the pseudo-bf16 one.
     */
    @Test
    void standInCudnnRejectsMixedAndTrueBf16Configurations() throws Throwable {
        ConvGeometry g = ConvGeometry.of(1, 5, 5, 2, 3, 3, 1, 1, 1);
        Linker linker = Linker.nativeLinker();
        MethodHandle rank = linker.downcallHandle(stand.cudnn.find("cudnnGetConvolutionForwardAlgorithm_v7")
                .orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS));
        MethodHandle setConv = linker.downcallHandle(stand.cudnn.find("cudnnSetConvolution2dDescriptor").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        Cudnn bf16 = new Cudnn(stand.cudnn, 0, CudaPrecision.BF16);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT), perf = arena.allocate(8 * ConvAlgo.PERF_BYTES);
            MemorySegment x = bf16.xDesc(g), w = bf16.filter(g), conv = bf16.convolution(g), y = bf16.yDesc(g);
            MemorySegment yF32 = bf16.tensor(TensorDims.nhwc(g.n(), g.p(), g.q(), g.k()), Cudnn.CUDNN_DATA_FLOAT);
            assertEquals(0, (int) rank.invokeExact(MemorySegment.NULL, x, w, conv, y, 8, count, perf), "pseudo-bf16");
            assertEquals(3000, (int) rank.invokeExact(MemorySegment.NULL, x, w, conv, yF32, 8, count, perf),
                    "bf16 x, w with f32 y");
            assertEquals(0, (int) setConv.invokeExact(conv, 1, 1, 1, 1, 1, 1, Cudnn.CUDNN_CROSS_CORRELATION,
                    Cudnn.CUDNN_DATA_BFLOAT16));
            assertEquals(3000, (int) rank.invokeExact(MemorySegment.NULL, x, w, conv, y, 8, count, perf),
                    "bf16 compute type");
        } finally {
            bf16.close();
        }
    }

    /**
     * Device memory is planned once per step shape: the first ResNet-50 training step (forward, loss, backward,
     * SGD) sizes the scratch (convolution workspace, partial sums); the steps after it allocate nothing.
     */
    @ParameterizedTest
    @ValueSource(strings = {"", "bf16"})
    void trainingStepsAfterTheFirstAllocateNoDeviceMemory(String options) throws Throwable {
        try (CudaBackend be = backend(options)) {
            ResNetStepParityTest.Run run = new ResNetStepParityTest.Run(be);
            long before = be.deviceAllocations(), afterFirst = 0;
            for (int step = 0; step < 3; step++) {
                run.step();
                if (step == 0) {
                    afterFirst = be.deviceAllocations();
                }
            }
            assertTrue(afterFirst > before, "the first step sizes the scratch (the count sees allocations)");
            assertEquals(afterFirst, be.deviceAllocations(), "device allocations after step 1 vs after step 3");
        }
    }

    /**
     * The cross-entropy forward and denseGather check their labels and indices on the device and queue no
     * synchronisation for it: the stream log between the ops and the next download holds no sync, and that
     * download, which waits anyway, throws the first error queued with the reference's message.
     */
    @Test
    void badLabelsAndIndicesWaitForTheNextDownloadInsteadOfSynchronising() throws Throwable {
        try (CudaBackend be = backend("fp32"); VsRef h = new VsRef(be)) {
            int m = 50, c = 4, s2 = 6;
            Pair logits = h.normal(1, 1, m, c), labels = h.labels(2, c + 3, 255, 0, m), probs = h.zeros(m, c);
            Pair loss = h.zeros(1), grid = h.normal(3, 1, 2, s2, 5), out = h.zeros(2, s2, 5);
            Pair indices = new Pair(h.ref.allocate(DType.I32, Shape.of(2, s2)), be.allocate(DType.I32, Shape.of(2, s2)));
            be.upload(new int[] {0, 1, 2, 3, 4, 5, 9, 0, 0, 0, 0, 0}, indices.dut());
            IllegalArgumentException want = assertThrows(IllegalArgumentException.class, () -> h.ref
                    .softmaxCrossEntropyForward(logits.ref(), labels.ref(), 255, true, probs.ref(), loss.ref()));
            Pair good = h.labels(4, c, 255, 0.1, m);
            be.softmaxCrossEntropyForward(logits.dut(), good.dut(), 255, true, probs.dut(), loss.dut());
            be.denseGather(grid.dut(), be.allocate(DType.I32, Shape.of(2, s2)), out.dut()); // first calls size scratch
            h.download(loss); // clean inputs: nothing to report
            stand.log(true);
            be.softmaxCrossEntropyForward(logits.dut(), labels.dut(), 255, true, probs.dut(), loss.dut());
            be.denseGather(grid.dut(), indices.dut(), out.dut());
            List<String> queued = stand.logged();
            stand.log(false);
            assertTrue(queued.stream().anyMatch(l -> l.contains("ce_labels_f32"))
                    && queued.stream().anyMatch(l -> l.contains("dense_gather_f32")), "the log saw both ops: " + queued);
            assertEquals(List.of(), queued.stream().filter(l -> l.contains("sync")).toList(), "no host wait");
            IllegalArgumentException got = assertThrows(IllegalArgumentException.class, () -> h.download(loss));
            assertEquals(want.getMessage(), got.getMessage(), "the first error queued, as ref reports it");
        }
    }

    @Test
    void outOfMemorySaysWhatWasAskedWhatIsFreeAndWhatToLower() {
        try (CudaBackend be = backend("")) {
            OutOfDeviceMemory e = assertThrows(OutOfDeviceMemory.class,
                    () -> be.allocateBytes(2L << 40));
            assertEquals(OutOfDeviceMemory.message(2L << 40, 1L << 30, 2L << 30, "the model's tensors"),
                    e.getMessage());
        }
    }

    @Test
    void cudnnBatchNormGetsThePersistentModeAndMomentumAsFactor() throws Throwable {
        try (CudaBackend be = backend("fp32,bn=cudnn"); VsRef h = new VsRef(be)) {
            Pair x = h.normal(1, 1, 6, 3), gamma = h.uniform(2, 0.5, 1.5, 3), beta = h.zeros(3), rm = h.zeros(3);
            Pair rv = h.uniform(3, 1, 2, 3), mean = h.zeros(3), inv = h.zeros(3), y = h.zeros(6, 3);
            be.batchNormTrainForward(x.dut(), gamma.dut(), beta.dut(), 0.1f, 1e-5f, rm.dut(), rv.dut(), mean.dut(),
                    inv.dut(), y.dut(), false);
            assertEquals(Cudnn.CUDNN_BATCHNORM_SPATIAL_PERSISTENT, (int) cudnnBnMode.invokeExact());
            assertEquals(0.1, (double) cudnnFactor.invokeExact(), 1e-7, "exponentialAverageFactor = momentum");
        }
    }
}
