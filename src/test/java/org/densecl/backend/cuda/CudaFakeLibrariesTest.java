package org.densecl.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.VsRef;
import org.densecl.backend.VsRef.Pair;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole cuda backend on stand-in libraries, without a GPU: fake_libcuda.c (host memory as device memory),
 * fake_libcublas.c and fake_libcudnn.c (src/test/c, compiled here with gcc), whose GEMMs, convolutions and
 * batch norm compute what cuBLAS and cuDNN document, with their argument checks. So every op of the backend
 * that runs on cuBLAS or cuDNN goes through the real binding (descriptors, argument order, scalars,
 * algorithm choice, workspace sizing, the row-major mapping) and is compared with the ref backend by the GPU
 * tests' own bodies (CudaOpsTest). Our kernels' launches are only recorded by the stand-in driver, so ops on
 * them are left to the GPU run. Skips, saying why, without gcc or without the kernel fatbin (no nvcc at build).
 */
class CudaFakeLibrariesTest {
    @TempDir
    static Path tmp;

    private static SymbolLookup cuda, cublas, cudnn;
    private static MethodHandle cublasCompute, cublasMath, cudnnMath, cudnnBnMode, cudnnFactor;

    @BeforeAll
    static void build() throws Throwable {
        Path gcc = Path.of("/usr/bin/gcc");
        skipUnless(Files.isExecutable(gcc), "no " + gcc + " to build the stand-in libraries");
        try {
            CudaKernels.fatbin();
        } catch (CudaUnavailableException e) {
            skipUnless(false, e.getMessage());
        }
        cuda = compile(gcc, "fake_libcuda.c", "libcuda.so.1");
        cublas = compile(gcc, "fake_libcublas.c", "libcublas.so.13");
        cudnn = compile(gcc, "fake_libcudnn.c", "libcudnn.so.9");
        cublasCompute = intFunction(cublas, "fake_cublas_last_compute");
        cublasMath = intFunction(cublas, "fake_cublas_last_math");
        cudnnMath = intFunction(cudnn, "fake_cudnn_last_math");
        cudnnBnMode = intFunction(cudnn, "fake_cudnn_last_bn_mode");
        cudnnFactor = Linker.nativeLinker().downcallHandle(cudnn.find("fake_cudnn_last_factor").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE));
    }

    private static void skipUnless(boolean ok, String reason) {
        if (!ok) {
            System.out.println("SKIPPED (stand-in libraries) " + reason);
        }
        Assumptions.assumeTrue(ok, reason);
    }

    private static SymbolLookup compile(Path gcc, String source, String name) throws IOException,
            InterruptedException {
        Path lib = tmp.resolve(name);
        Process p = new ProcessBuilder(gcc.toString(), "-shared", "-fPIC", "-O1", "-o", lib.toString(),
                "src/test/c/" + source, "-lm").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "gcc " + source + " failed: " + out);
        return SymbolLookup.libraryLookup(lib, Arena.global());
    }

    private static MethodHandle intFunction(SymbolLookup lib, String name) {
        return Linker.nativeLinker().downcallHandle(lib.find(name).orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
    }

    private static CudaBackend backend(String options) {
        return new CudaBackend(CudaContext.open(CudaDriver.bind(cuda), 0), CudaOptions.parse(options), cublas, cudnn);
    }

    @Test
    void gemmsThroughTheCublasBindingMatchRef() throws Throwable {
        try (CudaBackend be = backend("fp32"); VsRef h = new VsRef(be)) {
            CudaOpsTest.gemms(h, be, false);
            assertEquals(CudaPrecision.CUBLAS_COMPUTE_32F, (int) cublasCompute.invokeExact(), "strict: CUBLAS_COMPUTE_32F");
            assertEquals(Cublas.CUBLAS_PEDANTIC_MATH, (int) cublasMath.invokeExact());
        }
        try (CudaBackend be = backend(""); VsRef h = new VsRef(be)) {
            Pair a = h.uniform(1, -1, 1, 3, 4), b = h.uniform(2, -1, 1, 4, 5), c = h.zeros(3, 5);
            be.gemm(false, false, 3, 5, 4, 1f, a.dut(), b.dut(), 0f, c.dut());
            assertEquals(CudaPrecision.CUBLAS_COMPUTE_32F_FAST_TF32, (int) cublasCompute.invokeExact(), "default: TF32");
        }
    }

    @Test
    void denseMatchSimilaritiesThroughTheStridedBatchedGemm() throws Throwable {
        // The argmax kernel is not run by the stand-in driver; the batched GEMM's scratch is compared instead.
        try (CudaBackend be = backend("fp32"); VsRef h = new VsRef(be)) {
            int n = 3, s2 = 5, c = 7;
            Pair qb = h.uniform(3, -1, 1, n, s2, c), kb = h.uniform(4, -1, 1, n, s2, c), sim = h.zeros(n, s2, s2);
            for (int i = 0; i < n; i++) {
                h.ref.gemm(false, true, s2, s2, c, 1f, qb.ref().slice((long) i * s2 * c, org.densecl.tensor.Shape.of(s2, c)),
                        kb.ref().slice((long) i * s2 * c, org.densecl.tensor.Shape.of(s2, c)), 0f,
                        sim.ref().slice((long) i * s2 * s2, org.densecl.tensor.Shape.of(s2, s2)));
            }
            Cublas direct = new Cublas(cublas, 0, java.lang.foreign.MemorySegment.NULL, 0, CudaPrecision.FP32);
            direct.gemmStridedBatched(false, true, s2, s2, c, 1f, qb.dut().data(), (long) s2 * c, kb.dut().data(),
                    (long) s2 * c, 0f, sim.dut().data(), (long) s2 * s2, n);
            direct.close();
            h.close("strided-batched similarities", sim, 1e-6, 1e-6);
        }
    }

    @Test
    void convolutionsThroughTheCudnnBindingMatchRef() throws Throwable {
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

    @Test
    void outOfMemorySaysWhatWasAskedWhatIsFreeAndWhatToLower() {
        try (CudaBackend be = backend("")) {
            OutOfDeviceMemory e = org.junit.jupiter.api.Assertions.assertThrows(OutOfDeviceMemory.class,
                    () -> be.allocateBytes(2L << 40));
            assertEquals(OutOfDeviceMemory.message(2L << 40, 1L << 30, 2L << 30, "the model's tensors"), e.getMessage());
        }
    }

    @Test
    void cudnnBatchNormThroughTheBindingMatchesRef() throws Throwable {
        try (CudaBackend be = backend("fp32,bn=cudnn"); VsRef h = new VsRef(be)) {
            CudaOpsTest.batchNorm(h, be, false);
            assertEquals(Cudnn.CUDNN_BATCHNORM_SPATIAL_PERSISTENT, (int) cudnnBnMode.invokeExact());
            assertEquals(0.1, (double) cudnnFactor.invokeExact(), 1e-7, "exponentialAverageFactor = momentum");
        }
    }
}
