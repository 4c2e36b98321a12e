package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Convolutions on cuDNN: NHWC activations and KRSC filters as they are (no layout change), the algorithm of
 * each shape and direction chosen once ({@link ConvPlans}), and one workspace shared by all of them, grown
 * to the largest algorithm's need ({@link Workspace}). So the first step of a shape sizes everything and
 * later steps allocate nothing. Forward overwrites y (beta 0); backward-data accumulates into dx (beta 1) or
 * assigns it (beta 0); backward-filter accumulates into dw and db (beta 1).
 *
 * <p>In bf16 mode ({@link Bf16Operands} given) cuDNN sees bf16 copies of the f32 operands and writes a bf16
 * result with beta 0 (its PSEUDO_BFLOAT16_CONFIG has bf16 data only), which is cast back into the f32 tensor:
 * assigned for y, added for dx (when accumulating) and dw. Biases stay f32 on the f32 tensors.
 */
final class CudaConv {
    private final Cudnn cudnn;
    private final ConvPlans plans;
    private final Workspace workspace;
    private final Bf16Operands bf16; // null unless convolutions run in bf16

    CudaConv(Cudnn cudnn, ConvPlans plans, Workspace workspace, Bf16Operands bf16) {
        this.cudnn = cudnn;
        this.plans = plans;
        this.workspace = workspace;
        this.bf16 = bf16;
    }

    /**
     * cuDNN's ranking for one direction (the three _v7 heuristics), each supported entry's workspace replaced
     * by what cuDNN's workspace query gives for it (as PyTorch does: the ranking's figure is an estimate, and
     * a convolution handed less than it needs fails), an entry the query refuses marked unsupported.
     */
    static ConvPlans.Ranking ranking(Cudnn cudnn) {
        return (g, d) -> {
            List<ConvAlgo> ranked = switch (d) {
                case FORWARD -> cudnn.forwardAlgos(g);
                case BACKWARD_DATA -> cudnn.backwardDataAlgos(g);
                case BACKWARD_FILTER -> cudnn.backwardFilterAlgos(g);
            };
            List<ConvAlgo> out = new ArrayList<>(ranked.size());
            for (ConvAlgo a : ranked) {
                long bytes = a.status() == 0 ? cudnn.workspaceBytes(g, d, a.algo()) : -1;
                out.add(bytes < 0 ? new ConvAlgo(a.algo(), a.status() == 0 ? -1 : a.status(), a.memory())
                        : new ConvAlgo(a.algo(), 0, Math.max(bytes, a.memory())));
            }
            return out;
        };
    }

    void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        String op = "conv2dForward";
        shapes(op, g, "x", x, "w", w, "y", y);
        ConvAlgo a = plans.algo(g, ConvPlans.Direction.FORWARD);
        MemorySegment ws = workspace.reserve(a.memory());
        if (bf16 == null) {
            cudnn.convolutionForward(g, 1f, CudaArgs.f32(op, "x", x), CudaArgs.f32(op, "w", w), a.algo(), ws,
                    a.memory(), 0f, CudaArgs.f32(op, "y", y));
        } else {
            cudnn.convolutionForward(g, 1f, bf16.copyOf(Bf16Operands.Role.ACTIVATION, op, "x", x),
                    bf16.copyOf(Bf16Operands.Role.FILTER, op, "w", w), a.algo(), ws, a.memory(), 0f,
                    bf16.result(Bf16Operands.Role.OUTPUT, y.numel()));
            bf16.castBack(Bf16Operands.Role.OUTPUT, op, "y", y, false);
        }
        if (bias != null) {
            Check.shape(op, "bias", bias, Shape.of(g.k()));
            cudnn.addTensor(1f, TensorDims.perChannel(g.k()), CudaArgs.f32(op, "bias", bias), 1f,
                    TensorDims.nhwc(g.n(), g.p(), g.q(), g.k()), CudaArgs.f32(op, "y", y));
        }
    }

    void backwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        String op = "conv2dBackwardData";
        shapes(op, g, "dx", dx, "w", w, "dy", dy);
        ConvAlgo a = plans.algo(g, ConvPlans.Direction.BACKWARD_DATA);
        MemorySegment ws = workspace.reserve(a.memory());
        if (bf16 == null) {
            cudnn.convolutionBackwardData(g, 1f, CudaArgs.f32(op, "w", w), CudaArgs.f32(op, "dy", dy), a.algo(), ws,
                    a.memory(), accumulate ? 1f : 0f, CudaArgs.f32(op, "dx", dx));
            return;
        }
        cudnn.convolutionBackwardData(g, 1f, bf16.copyOf(Bf16Operands.Role.FILTER, op, "w", w),
                bf16.copyOf(Bf16Operands.Role.OUTPUT, op, "dy", dy), a.algo(), ws, a.memory(), 0f,
                bf16.result(Bf16Operands.Role.ACTIVATION, dx.numel()));
        bf16.castBack(Bf16Operands.Role.ACTIVATION, op, "dx", dx, accumulate);
    }

    void backwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        String op = "conv2dBackwardFilter";
        shapes(op, g, "x", x, "dw", dw, "dy", dy);
        ConvAlgo a = plans.algo(g, ConvPlans.Direction.BACKWARD_FILTER);
        MemorySegment ws = workspace.reserve(a.memory());
        if (bf16 == null) {
            cudnn.convolutionBackwardFilter(g, 1f, CudaArgs.f32(op, "x", x), CudaArgs.f32(op, "dy", dy), a.algo(),
                    ws, a.memory(), 1f, CudaArgs.f32(op, "dw", dw));
        } else {
            cudnn.convolutionBackwardFilter(g, 1f, bf16.copyOf(Bf16Operands.Role.ACTIVATION, op, "x", x),
                    bf16.copyOf(Bf16Operands.Role.OUTPUT, op, "dy", dy), a.algo(), ws, a.memory(), 0f,
                    bf16.result(Bf16Operands.Role.FILTER, dw.numel()));
            bf16.castBack(Bf16Operands.Role.FILTER, op, "dw", dw, true);
        }
        if (db != null) {
            Check.shape(op, "db", db, Shape.of(g.k()));
            cudnn.backwardBias(TensorDims.nhwc(g.n(), g.p(), g.q(), g.k()), CudaArgs.f32(op, "dy", dy), 1f,
                    CudaArgs.f32(op, "db", db));
        }
    }

    private static void shapes(String op, ConvGeometry g, String xName, Tensor x, String wName, Tensor w,
                               String yName, Tensor y) {
        Check.shape(op, xName, x, g.xShape());
        Check.shape(op, wName, w, g.wShape());
        Check.shape(op, yName, y, g.yShape());
    }
}
