package org.densecl.backend.cuda;

import static org.densecl.backend.cuda.Downcalls.DOUBLE;
import static org.densecl.backend.cuda.Downcalls.INT;
import static org.densecl.backend.cuda.Downcalls.PTR;
import static org.densecl.backend.cuda.Downcalls.SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.ConvGeometry;

/**
 * cuDNN's legacy API through FFM (deprecated in 9.x, still exported; the graph API is a later step): a
 * handle on the compute stream, NHWC tensor / KRSC filter / convolution descriptors created once per shape
 * and cached until {@link #close()}, the three convolution directions with their algorithm rankings and
 * workspace sizes, the bias add and gradient of convolutions, and batch norm (training forward and backward).
 *
 * <p>Library: {@code libcudnn.so.9}, then {@code .so.8}, or the file named by DENSECL_LIBCUDNN. cuDNN 9
 * exports these functions from its sub-libraries (graph, ops, cnn), which the shim loads itself; they are
 * looked up in the shim and then in those sub-libraries, so either build works. Not thread-safe.
 */
public final class Cudnn implements AutoCloseable {
    static final String OVERRIDE_ENV = "DENSECL_LIBCUDNN";
    static final List<String> SONAMES = List.of("libcudnn.so.9", "libcudnn.so.8");
    private static final List<String> SUB_LIBRARIES = List.of("libcudnn_graph.so.9", "libcudnn_ops.so.9",
            "libcudnn_cnn.so.9");

    static final int CUDNN_DATA_FLOAT = 0;               // cudnnDataType_t CUDNN_DATA_FLOAT
    static final int CUDNN_DATA_BFLOAT16 = 9;            // cudnnDataType_t CUDNN_DATA_BFLOAT16
    static final int CUDNN_TENSOR_NHWC = 1;              // cudnnTensorFormat_t CUDNN_TENSOR_NHWC (KRSC filters)
    static final int CUDNN_CROSS_CORRELATION = 1;        // cudnnConvolutionMode_t CUDNN_CROSS_CORRELATION
    static final int CUDNN_BATCHNORM_SPATIAL = 1;        // cudnnBatchNormMode_t CUDNN_BATCHNORM_SPATIAL
    static final int CUDNN_BATCHNORM_SPATIAL_PERSISTENT = 2; // cudnnBatchNormMode_t CUDNN_BATCHNORM_SPATIAL_PERSISTENT
    /** How many ranked algorithms to ask for: more than any direction has (8 forward, 6 data, 7 filter). */
    static final int MAX_ALGOS = 8;

    private static Api api;

    private final Api f;
    private final MemorySegment handle; // cudnnHandle_t
    private final int mathType;         // cudnnMathType_t of every convolution descriptor
    private final int convData;         // cudnnDataType_t of convolutions' x, w and y: f32, or bf16 copies
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scalars;  // (4) float: alpha/beta pairs, read by cuDNN at the call
    private final MemorySegment out;      // (MAX_ALGOS * 48) bytes: out-parameters (handles, rankings)
    private final MemorySegment counter;  // (1) int: how many ranked algorithms cuDNN returned
    private final MemorySegment sizeOut;  // (1) size_t: a workspace size
    private final Map<TensorKey, MemorySegment> tensors = new HashMap<>();
    private final Map<ConvGeometry, MemorySegment> filters = new HashMap<>();
    private final Map<ConvGeometry, MemorySegment> convs = new HashMap<>();

    /** A tensor descriptor's cache key: the same dims serve f32 ops and bf16 convolutions. */
    private record TensorKey(TensorDims dims, int dataType) {}

    private record Api(
            // cudnnStatus_t cudnnCreate(cudnnHandle_t *handle);
            MethodHandle create,
            // cudnnStatus_t cudnnDestroy(cudnnHandle_t handle);
            MethodHandle destroy,
            // cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId);
            MethodHandle setStream,
            // const char *cudnnGetErrorString(cudnnStatus_t status);
            MethodHandle errorString,
            // size_t cudnnGetVersion(void);
            MethodHandle getVersion,
            // cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *tensorDesc);
            MethodHandle createTensor,
            // cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t tensorDesc, cudnnDataType_t dataType,
            //     int n, int c, int h, int w, int nStride, int cStride, int hStride, int wStride);
            MethodHandle setTensor4dEx,
            // cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t tensorDesc);
            MethodHandle destroyTensor,
            // cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *filterDesc);
            MethodHandle createFilter,
            // cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t filterDesc, cudnnDataType_t dataType,
            //     cudnnTensorFormat_t format, int k, int c, int h, int w);
            MethodHandle setFilter4d,
            // cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t filterDesc);
            MethodHandle destroyFilter,
            // cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *convDesc);
            MethodHandle createConv,
            // cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t convDesc, int pad_h,
            //     int pad_w, int u, int v, int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
            //     cudnnDataType_t computeType);
            MethodHandle setConv2d,
            // cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t convDesc, cudnnMathType_t mathType);
            MethodHandle setConvMathType,
            // cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t convDesc);
            MethodHandle destroyConv,
            // cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle,
            //     const cudnnTensorDescriptor_t srcDesc, const cudnnFilterDescriptor_t filterDesc,
            //     const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t destDesc,
            //     const int requestedAlgoCount, int *returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t *perfResults);
            MethodHandle forwardAlgos,
            // cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t handle,
            //     const cudnnFilterDescriptor_t filterDesc, const cudnnTensorDescriptor_t diffDesc,
            //     const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t gradDesc,
            //     const int requestedAlgoCount, int *returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t *perfResults);
            MethodHandle backwardDataAlgos,
            // cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle,
            //     const cudnnTensorDescriptor_t srcDesc, const cudnnTensorDescriptor_t diffDesc,
            //     const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t gradDesc,
            //     const int requestedAlgoCount, int *returnedAlgoCount, cudnnConvolutionBwdFilterAlgoPerf_t *perfResults);
            MethodHandle backwardFilterAlgos,
            // cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle,
            //     const cudnnTensorDescriptor_t xDesc, const cudnnFilterDescriptor_t wDesc,
            //     const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t yDesc,
            //     cudnnConvolutionFwdAlgo_t algo, size_t *sizeInBytes);
            MethodHandle forwardWorkspace,
            // cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle,
            //     const cudnnFilterDescriptor_t wDesc, const cudnnTensorDescriptor_t dyDesc,
            //     const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t dxDesc,
            //     cudnnConvolutionBwdDataAlgo_t algo, size_t *sizeInBytes);
            MethodHandle backwardDataWorkspace,
            // cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle,
            //     const cudnnTensorDescriptor_t xDesc, const cudnnTensorDescriptor_t dyDesc,
            //     const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t gradDesc,
            //     cudnnConvolutionBwdFilterAlgo_t algo, size_t *sizeInBytes);
            MethodHandle backwardFilterWorkspace,
            // cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void *alpha,
            //     const cudnnTensorDescriptor_t xDesc, const void *x, const cudnnFilterDescriptor_t wDesc,
            //     const void *w, const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionFwdAlgo_t algo,
            //     void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
            //     const cudnnTensorDescriptor_t yDesc, void *y);
            MethodHandle forward,
            // cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void *alpha,
            //     const cudnnFilterDescriptor_t wDesc, const void *w, const cudnnTensorDescriptor_t dyDesc,
            //     const void *dy, const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionBwdDataAlgo_t algo,
            //     void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
            //     const cudnnTensorDescriptor_t dxDesc, void *dx);
            MethodHandle backwardData,
            // cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void *alpha,
            //     const cudnnTensorDescriptor_t xDesc, const void *x, const cudnnTensorDescriptor_t dyDesc,
            //     const void *dy, const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionBwdFilterAlgo_t algo,
            //     void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
            //     const cudnnFilterDescriptor_t dwDesc, void *dw);
            MethodHandle backwardFilter,
            // cudnnStatus_t cudnnConvolutionBackwardBias(cudnnHandle_t handle, const void *alpha,
            //     const cudnnTensorDescriptor_t dyDesc, const void *dy, const void *beta,
            //     const cudnnTensorDescriptor_t dbDesc, void *db);
            MethodHandle backwardBias,
            // cudnnStatus_t cudnnAddTensor(cudnnHandle_t handle, const void *alpha,
            //     const cudnnTensorDescriptor_t aDesc, const void *A, const void *beta,
            //     const cudnnTensorDescriptor_t cDesc, void *C);
            MethodHandle addTensor,
            // cudnnStatus_t cudnnBatchNormalizationForwardTraining(cudnnHandle_t handle, cudnnBatchNormMode_t mode,
            //     const void *alpha, const void *beta, const cudnnTensorDescriptor_t xDesc, const void *x,
            //     const cudnnTensorDescriptor_t yDesc, void *y, const cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc,
            //     const void *bnScale, const void *bnBias, double exponentialAverageFactor, void *resultRunningMean,
            //     void *resultRunningVariance, double epsilon, void *resultSaveMean, void *resultSaveInvVariance);
            MethodHandle bnForwardTraining,
            // cudnnStatus_t cudnnBatchNormalizationBackward(cudnnHandle_t handle, cudnnBatchNormMode_t mode,
            //     const void *alphaDataDiff, const void *betaDataDiff, const void *alphaParamDiff,
            //     const void *betaParamDiff, const cudnnTensorDescriptor_t xDesc, const void *x,
            //     const cudnnTensorDescriptor_t dyDesc, const void *dy, const cudnnTensorDescriptor_t dxDesc, void *dx,
            //     const cudnnTensorDescriptor_t dBnScaleBiasDesc, const void *bnScale, void *dBnScaleResult,
            //     void *dBnBiasResult, double epsilon, const void *savedMean, const void *savedInvVariance);
            MethodHandle bnBackward) {

        static Api bind(Downcalls d) {
            FunctionDescriptor algos = FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, INT, PTR, PTR);
            FunctionDescriptor size = FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, INT, PTR);
            FunctionDescriptor conv = FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, PTR, SIZE_T,
                    PTR, PTR, PTR);
            return new Api(
                    d.bind("cudnnCreate", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnDestroy", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnSetStream", FunctionDescriptor.of(INT, PTR, PTR)),
                    d.bind("cudnnGetErrorString", FunctionDescriptor.of(PTR, INT)),
                    d.bind("cudnnGetVersion", FunctionDescriptor.of(SIZE_T)),
                    d.bind("cudnnCreateTensorDescriptor", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnSetTensor4dDescriptorEx", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT,
                            INT, INT, INT, INT)),
                    d.bind("cudnnDestroyTensorDescriptor", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnCreateFilterDescriptor", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnSetFilter4dDescriptor", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT,
                            INT)),
                    d.bind("cudnnDestroyFilterDescriptor", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnCreateConvolutionDescriptor", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnSetConvolution2dDescriptor", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT,
                            INT, INT, INT)),
                    d.bind("cudnnSetConvolutionMathType", FunctionDescriptor.of(INT, PTR, INT)),
                    d.bind("cudnnDestroyConvolutionDescriptor", FunctionDescriptor.of(INT, PTR)),
                    d.bind("cudnnGetConvolutionForwardAlgorithm_v7", algos),
                    d.bind("cudnnGetConvolutionBackwardDataAlgorithm_v7", algos),
                    d.bind("cudnnGetConvolutionBackwardFilterAlgorithm_v7", algos),
                    d.bind("cudnnGetConvolutionForwardWorkspaceSize", size),
                    d.bind("cudnnGetConvolutionBackwardDataWorkspaceSize", size),
                    d.bind("cudnnGetConvolutionBackwardFilterWorkspaceSize", size),
                    d.bind("cudnnConvolutionForward", conv),
                    d.bind("cudnnConvolutionBackwardData", conv),
                    d.bind("cudnnConvolutionBackwardFilter", conv),
                    d.bind("cudnnConvolutionBackwardBias", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR,
                            PTR)),
                    d.bind("cudnnAddTensor", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR)),
                    d.bind("cudnnBatchNormalizationForwardTraining", FunctionDescriptor.of(INT, PTR, INT, PTR, PTR,
                            PTR, PTR, PTR, PTR, PTR, PTR, PTR, DOUBLE, PTR, PTR, DOUBLE, PTR, PTR)),
                    d.bind("cudnnBatchNormalizationBackward", FunctionDescriptor.of(INT, PTR, INT, PTR, PTR, PTR, PTR,
                            PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, DOUBLE, PTR, PTR)));
        }
    }

    private static synchronized Api api() {
        if (api == null) {
            SymbolLookup lookup = NativeLibraries.open("cuDNN", SONAMES, OVERRIDE_ENV);
            for (String sub : SUB_LIBRARIES) {
                try {
                    lookup = lookup.or(NativeLibraries.open("cuDNN (" + sub + ")", List.of(sub), null));
                } catch (CudaUnavailableException e) {
                    // cuDNN 8, or a 9 whose shim exports everything: the shim's lookup is enough
                }
            }
            api = Api.bind(new Downcalls(lookup, "cuDNN"));
        }
        return api;
    }

    /** A handle whose work goes to {@code stream}; convolutions use {@code precision}'s math type. */
    public Cudnn(long stream, CudaPrecision precision) {
        this(api(), stream, precision);
    }

    /** The same on the functions of {@code lib} (a stand-in library in the host-side tests). */
    Cudnn(SymbolLookup lib, long stream, CudaPrecision precision) {
        this(Api.bind(new Downcalls(lib, "cuDNN")), stream, precision);
    }

    private Cudnn(Api f, long stream, CudaPrecision precision) {
        this.f = f;
        this.mathType = precision.cudnnMathType();
        this.convData = precision.cudnnConvDataType();
        this.scalars = arena.allocate(ValueLayout.JAVA_FLOAT, 4);
        this.out = arena.allocate(MAX_ALGOS * ConvAlgo.PERF_BYTES, 8);
        this.counter = arena.allocate(INT);
        this.sizeOut = arena.allocate(SIZE_T);
        check("cudnnCreate", call(() -> (int) f.create.invokeExact(out)));
        this.handle = out.get(PTR, 0);
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cudnnSetStream", call(() -> (int) f.setStream.invokeExact(handle, s)));
    }

    /** cuDNN's version number (e.g. 91900 for 9.19.0). */
    public long version() {
        return Cublas.call(() -> (long) f.getVersion.invokeExact());
    }

    // ------------------------------------------------------------------ descriptors (cached per shape)

    /** The F32 tensor descriptor of {@code d}, created on first use. */
    MemorySegment tensor(TensorDims d) {
        return tensor(d, CUDNN_DATA_FLOAT);
    }

    /** The tensor descriptor of {@code d} with elements of cudnnDataType_t {@code dataType}. */
    MemorySegment tensor(TensorDims d, int dataType) {
        TensorKey key = new TensorKey(d, dataType);
        MemorySegment desc = tensors.get(key);
        if (desc == null) {
            check("cudnnCreateTensorDescriptor", call(() -> (int) f.createTensor.invokeExact(out)));
            MemorySegment created = out.get(PTR, 0);
            tensors.put(key, created);
            check("cudnnSetTensor4dDescriptorEx " + d, call(() -> (int) f.setTensor4dEx.invokeExact(created,
                    dataType, d.n(), d.c(), d.h(), d.w(), d.nStride(), d.cStride(), d.hStride(), d.wStride())));
            desc = created;
        }
        return desc;
    }

    /**
     * The KRSC filter descriptor of {@code g} (cuDNN's NHWC filter format is K, R, S, C in memory), of the
     * convolutions' data type.
     */
    MemorySegment filter(ConvGeometry g) {
        MemorySegment desc = filters.get(g);
        if (desc == null) {
            check("cudnnCreateFilterDescriptor", call(() -> (int) f.createFilter.invokeExact(out)));
            MemorySegment created = out.get(PTR, 0);
            filters.put(g, created);
            check("cudnnSetFilter4dDescriptor", call(() -> (int) f.setFilter4d.invokeExact(created, convData,
                    CUDNN_TENSOR_NHWC, g.k(), g.c(), g.r(), g.s())));
            desc = created;
        }
        return desc;
    }

    /**
     * The convolution descriptor of {@code g}: pads, strides, dilations, cross-correlation, f32 compute
     * (with bf16 data that is cuDNN's PSEUDO_BFLOAT16_CONFIG; it has no bf16 compute type).
     */
    MemorySegment convolution(ConvGeometry g) {
        MemorySegment desc = convs.get(g);
        if (desc == null) {
            check("cudnnCreateConvolutionDescriptor", call(() -> (int) f.createConv.invokeExact(out)));
            MemorySegment created = out.get(PTR, 0);
            convs.put(g, created);
            check("cudnnSetConvolution2dDescriptor", call(() -> (int) f.setConv2d.invokeExact(created, g.padH(),
                    g.padW(), g.strideH(), g.strideW(), g.dilationH(), g.dilationW(), CUDNN_CROSS_CORRELATION,
                    CUDNN_DATA_FLOAT)));
            check("cudnnSetConvolutionMathType", call(() -> (int) f.setConvMathType.invokeExact(created, mathType)));
            desc = created;
        }
        return desc;
    }

    // ------------------------------------------------------------------ algorithm rankings

    /** cuDNN's heuristic ranking of forward algorithms for {@code g}, fastest first. */
    List<ConvAlgo> forwardAlgos(ConvGeometry g) {
        MemorySegment x = xDesc(g), w = filter(g), c = convolution(g), y = yDesc(g), n = count(), r = ranking();
        check("cudnnGetConvolutionForwardAlgorithm_v7 " + g, call(() -> (int) f.forwardAlgos.invokeExact(handle,
                x, w, c, y, MAX_ALGOS, n, r)));
        return ConvAlgo.read(r, n.get(INT, 0));
    }

    /** The ranking of backward-data algorithms. */
    List<ConvAlgo> backwardDataAlgos(ConvGeometry g) {
        MemorySegment w = filter(g), dy = yDesc(g), c = convolution(g), dx = xDesc(g), n = count(), r = ranking();
        check("cudnnGetConvolutionBackwardDataAlgorithm_v7 " + g, call(() -> (int) f.backwardDataAlgos.invokeExact(
                handle, w, dy, c, dx, MAX_ALGOS, n, r)));
        return ConvAlgo.read(r, n.get(INT, 0));
    }

    /** The ranking of backward-filter algorithms. */
    List<ConvAlgo> backwardFilterAlgos(ConvGeometry g) {
        MemorySegment x = xDesc(g), dy = yDesc(g), c = convolution(g), dw = filter(g), n = count(), r = ranking();
        check("cudnnGetConvolutionBackwardFilterAlgorithm_v7 " + g, call(() -> (int) f.backwardFilterAlgos
                .invokeExact(handle, x, dy, c, dw, MAX_ALGOS, n, r)));
        return ConvAlgo.read(r, n.get(INT, 0));
    }

    /**
     * The workspace {@code algo} needs for {@code g} in direction {@code d}, as cuDNN computes it for the
     * descriptors (the ranking's figure is an estimate), or -1 when cuDNN refuses the algorithm for them.
     */
    long workspaceBytes(ConvGeometry g, ConvPlans.Direction d, int algo) {
        MemorySegment x = xDesc(g), w = filter(g), c = convolution(g), y = yDesc(g), n = sizeOut;
        int status = call(() -> switch (d) {
            case FORWARD -> (int) f.forwardWorkspace.invokeExact(handle, x, w, c, y, algo, n);
            case BACKWARD_DATA -> (int) f.backwardDataWorkspace.invokeExact(handle, w, y, c, x, algo, n);
            case BACKWARD_FILTER -> (int) f.backwardFilterWorkspace.invokeExact(handle, x, y, c, w, algo, n);
        });
        return status == 0 ? n.get(SIZE_T, 0) : -1;
    }

    private MemorySegment count() {
        return counter; // int *returnedAlgoCount
    }

    private MemorySegment ranking() {
        return out; // (MAX_ALGOS) perf structs; the count lives in `count`, a separate segment
    }

    /** The descriptor of a convolution's input x (or dx), of the convolutions' data type. */
    MemorySegment xDesc(ConvGeometry g) {
        return tensor(TensorDims.nhwc(g.n(), g.h(), g.w(), g.c()), convData);
    }

    /** The descriptor of a convolution's output y (or dy), of the convolutions' data type. */
    MemorySegment yDesc(ConvGeometry g) {
        return tensor(TensorDims.nhwc(g.n(), g.p(), g.q(), g.k()), convData);
    }

    // ------------------------------------------------------------------ convolutions

    /** y = alpha conv(x, w) + beta y with algorithm {@code algo} and the given workspace. */
    void convolutionForward(ConvGeometry g, float alpha, MemorySegment x, MemorySegment w, int algo,
                            MemorySegment workspace, long workspaceBytes, float beta, MemorySegment y) {
        MemorySegment xd = xDesc(g), wd = filter(g), cd = convolution(g), yd = yDesc(g);
        MemorySegment al = alpha(alpha), be = beta(beta);
        check("cudnnConvolutionForward " + g, call(() -> (int) f.forward.invokeExact(handle, al, xd, x, wd, w, cd,
                algo, workspace, workspaceBytes, be, yd, y)));
    }

    /** dx = alpha conv^T(dy, w) + beta dx. */
    void convolutionBackwardData(ConvGeometry g, float alpha, MemorySegment w, MemorySegment dy, int algo,
                                 MemorySegment workspace, long workspaceBytes, float beta, MemorySegment dx) {
        MemorySegment wd = filter(g), dyd = yDesc(g), cd = convolution(g), dxd = xDesc(g);
        MemorySegment al = alpha(alpha), be = beta(beta);
        check("cudnnConvolutionBackwardData " + g, call(() -> (int) f.backwardData.invokeExact(handle, al, wd, w, dyd,
                dy, cd, algo, workspace, workspaceBytes, be, dxd, dx)));
    }

    /** dw = alpha dW(x, dy) + beta dw. */
    void convolutionBackwardFilter(ConvGeometry g, float alpha, MemorySegment x, MemorySegment dy, int algo,
                                   MemorySegment workspace, long workspaceBytes, float beta, MemorySegment dw) {
        MemorySegment xd = xDesc(g), dyd = yDesc(g), cd = convolution(g), dwd = filter(g);
        MemorySegment al = alpha(alpha), be = beta(beta);
        check("cudnnConvolutionBackwardFilter " + g, call(() -> (int) f.backwardFilter.invokeExact(handle, al, xd, x,
                dyd, dy, cd, algo, workspace, workspaceBytes, be, dwd, dw)));
    }

    /** db = alpha * (sum of dy over N, H, W) + beta db; dy is {@code dyDims}, db (C). */
    void backwardBias(TensorDims dyDims, MemorySegment dy, float beta, MemorySegment db) {
        MemorySegment dyd = tensor(dyDims), dbd = tensor(TensorDims.perChannel(dyDims.c()));
        MemorySegment al = alpha(1f), be = beta(beta);
        check("cudnnConvolutionBackwardBias", call(() -> (int) f.backwardBias.invokeExact(handle, al, dyd, dy, be,
                dbd, db)));
    }

    /** C = alpha A + beta C, A broadcast over C's dimensions where its own are 1 (bias add, strided blocks). */
    void addTensor(float alpha, TensorDims aDims, MemorySegment a, float beta, TensorDims cDims, MemorySegment c) {
        MemorySegment ad = tensor(aDims), cd = tensor(cDims), al = alpha(alpha), be = beta(beta);
        check("cudnnAddTensor", call(() -> (int) f.addTensor.invokeExact(handle, al, ad, a, be, cd, c)));
    }

    // ------------------------------------------------------------------ batch norm

    /**
     * Training batch norm over x (dims): batch statistics per channel, y overwritten, running mean and
     * variance blended with {@code factor} (cuDNN's running variance is the unbiased one, as PyTorch's),
     * saved mean and 1 / sqrt(var + eps) written for the backward pass.
     */
    void batchNormForwardTraining(int mode, TensorDims dims, MemorySegment x, MemorySegment y, MemorySegment gamma,
                                  MemorySegment beta, double factor, MemorySegment runningMean,
                                  MemorySegment runningVar, double eps, MemorySegment saveMean,
                                  MemorySegment saveInvStd) {
        MemorySegment xd = tensor(dims), pd = tensor(TensorDims.perChannel(dims.c())), al = alpha(1f), be = beta(0f);
        check("cudnnBatchNormalizationForwardTraining " + dims, call(() -> (int) f.bnForwardTraining.invokeExact(
                handle, mode, al, be, xd, x, xd, y, pd, gamma, beta, factor, runningMean, runningVar, eps, saveMean,
                saveInvStd)));
    }

    /**
     * Batch-norm backward from the saved statistics: dx = result + betaData * dx (0 assigns, 1 accumulates);
     * dgamma and dbeta always accumulate (beta 1), as the Backend contract says.
     */
    void batchNormBackward(int mode, TensorDims dims, MemorySegment x, MemorySegment dy, float betaData,
                           MemorySegment dx, MemorySegment gamma, MemorySegment dgamma, MemorySegment dbeta,
                           double eps, MemorySegment saveMean, MemorySegment saveInvStd) {
        scalars.set(ValueLayout.JAVA_FLOAT, 0, 1f);
        scalars.set(ValueLayout.JAVA_FLOAT, 4, betaData);
        scalars.set(ValueLayout.JAVA_FLOAT, 8, 1f);
        scalars.set(ValueLayout.JAVA_FLOAT, 12, 1f);
        MemorySegment aD = scalars, bD = scalars.asSlice(4), aP = scalars.asSlice(8), bP = scalars.asSlice(12);
        MemorySegment xd = tensor(dims), pd = tensor(TensorDims.perChannel(dims.c()));
        check("cudnnBatchNormalizationBackward " + dims, call(() -> (int) f.bnBackward.invokeExact(handle, mode, aD,
                bD, aP, bP, xd, x, xd, dy, xd, dx, pd, gamma, dgamma, dbeta, eps, saveMean, saveInvStd)));
    }

    // ------------------------------------------------------------------ plumbing

    private MemorySegment alpha(float v) {
        scalars.set(ValueLayout.JAVA_FLOAT, 0, v);
        return scalars.asSlice(0, 4);
    }

    private MemorySegment beta(float v) {
        scalars.set(ValueLayout.JAVA_FLOAT, 4, v);
        return scalars.asSlice(4, 4);
    }

    private void check(String function, int status) {
        if (status != 0) { // CUDNN_STATUS_SUCCESS
            String text = Downcalls.cString(call(() -> (MemorySegment) f.errorString.invokeExact(status)));
            throw new CudaException(function + " failed: " + text + " (cudnnStatus_t " + status + ")", status);
        }
    }

    private static <T> T call(Cublas.Call<T> c) {
        return Cublas.call(c);
    }

    /** Destroys every cached descriptor, then the handle. */
    @Override
    public void close() {
        for (MemorySegment d : tensors.values()) {
            check("cudnnDestroyTensorDescriptor", call(() -> (int) f.destroyTensor.invokeExact(d)));
        }
        for (MemorySegment d : filters.values()) {
            check("cudnnDestroyFilterDescriptor", call(() -> (int) f.destroyFilter.invokeExact(d)));
        }
        for (MemorySegment d : convs.values()) {
            check("cudnnDestroyConvolutionDescriptor", call(() -> (int) f.destroyConv.invokeExact(d)));
        }
        check("cudnnDestroy", call(() -> (int) f.destroy.invokeExact(handle)));
        arena.close();
    }
}
