package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * cpu vs ref for batch norm: train forward (statistics, running-statistic update, output, fused
 * ReLU), inference forward and backward (with and without the ReLU mask, accumulating into non-zero
 * dx, dgamma, dbeta). Shapes: batch 1, odd channel counts (3, 11, 21, 37), one vector-multiple (64);
 * the (8, 23, 29, 21) and (2, 33, 35, 64) cases are large enough to be split into several parallel
 * parts, so the per-part statistics merge is checked. One case has mean 100 and std 0.5, where a
 * naive E[x^2] - E[x]^2 variance would lose most of its digits (twice: also where each part has
 * several blocks).
 *
 * <p>Tolerances. Ref works in double from the same F32 inputs; the cpu sums deviations from a
 * shift near the mean in float within blocks of <= 1024 rows and merges in double, so statistics agree to a few float
 * ulps (measured: |mean diff| <= 5e-8, invStd within 1e-6 relative). Outputs then pick up the float
 * mean's rounding, |mean| * 2^-24 * gamma * invStd, which is 1e-5 in the offset case (measured 8.8e-6;
 * 1.4e-6 elsewhere): atol 5e-5, rtol 1e-5. Backward channel sums add up to 5336 O(1) products in
 * float blocks (measured |diff| <= 8e-5 on sums of magnitude ~100), and dx carries them divided by
 * M: atol 1e-4, rtol 1e-4 for dgamma, dbeta and dx. -Ddensecl.test.printDiffs=true prints the diffs.
 */
class CpuBatchNormTest {
    private static final int[][] SHAPES = {{1, 5, 7, 3}, {2, 9, 11, 37}, {8, 23, 29, 21}, {2, 33, 35, 64}};

    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    @Test
    void trainForwardMatchesRef() {
        for (int[] dims : SHAPES) {
            for (boolean relu : new boolean[] {false, true}) {
                trainForward(dims, 0, 1, relu);
            }
        }
        trainForward(new int[] {4, 13, 17, 11}, 100, 0.5, true);
        // Offset again where the statistics run in 2 parts of 2 blocks each (C = 37: four-vector groups
        // plus a masked tail), so the later blocks' shift is the running mean of the earlier ones.
        trainForward(new int[] {2, 33, 35, 37}, 100, 0.5, false);
        // C = 300 > CpuBatchNorm.ROW_MAJOR_FROM: the row-major statistics (four rows per step, a masked
        // channel tail, a remainder row), in 4 parts; plain and offset.
        assertTrue(300 > CpuBatchNorm.ROW_MAJOR_FROM, "the C = 300 case must take the row-major statistics");
        trainForward(new int[] {2, 15, 17, 300}, 0, 1, true);
        trainForward(new int[] {2, 15, 17, 300}, 100, 0.5, false);
    }

    private void trainForward(int[] dims, double offset, double std, boolean relu) {
        int c = dims[dims.length - 1];
        String what = "batchNormTrainForward " + Shape.of(dims) + " relu=" + relu + " offset=" + offset;
        Pair x = b.normal(21, std, dims);
        if (offset != 0) {
            for (long i = 0; i < x.ref().numel(); i++) {
                x.ref().setFloat(i, (float) (x.ref().getFloat(i) + offset));
            }
            b.mirror(x);
        }
        Pair gamma = b.uniform(22, 0.5, 1.5, c), beta = b.normal(23, 1, c);
        Pair rm = b.normal(24, 1, c), rv = b.uniform(25, 0.5, 2, c);
        Pair mean = b.zeros(c), invStd = b.zeros(c), y = b.zeros(dims);
        b.ref.batchNormTrainForward(x.ref(), gamma.ref(), beta.ref(), 0.1f, 1e-5f, rm.ref(), rv.ref(), mean.ref(),
                invStd.ref(), y.ref(), relu);
        b.cpu.batchNormTrainForward(x.dut(), gamma.dut(), beta.dut(), 0.1f, 1e-5f, rm.dut(), rv.dut(), mean.dut(),
                invStd.dut(), y.dut(), relu);
        b.close(what + " saveMean", mean, 1e-6, 1e-6);
        b.close(what + " saveInvStd", invStd, 0, 1e-5);
        b.close(what + " runningMean", rm, 1e-6, 1e-6);
        b.close(what + " runningVar", rv, 0, 1e-5);
        b.close(what + " y", y, 5e-5, 1e-5);
    }

    @Test
    void trainForwardAddReluMatchesRefAndTheTwoOpsBitForBit() {
        // y = max(BN(x) + residual, 0): against ref (its Backend default: BN, then addRelu), and on cpu bit
        // for bit against cpu's BN followed by cpu's addRelu, which the fused pass claims to reproduce.
        for (int[] dims : SHAPES) {
            int c = dims[dims.length - 1];
            String what = "batchNormTrainForwardAddRelu " + Shape.of(dims);
            Pair x = b.normal(61, 1, dims), res = b.normal(62, 1, dims);
            Pair gamma = b.uniform(63, 0.5, 1.5, c), beta = b.normal(64, 1, c);
            Pair rm = b.normal(65, 1, c), rv = b.uniform(66, 0.5, 2, c);
            Pair mean = b.zeros(c), invStd = b.zeros(c), y = b.zeros(dims);
            Pair rm2 = b.normal(65, 1, c), rv2 = b.uniform(66, 0.5, 2, c);
            Pair mean2 = b.zeros(c), invStd2 = b.zeros(c), y2 = b.zeros(dims);
            b.ref.batchNormTrainForwardAddRelu(x.ref(), gamma.ref(), beta.ref(), 0.1f, 1e-5f, rm.ref(), rv.ref(),
                    mean.ref(), invStd.ref(), res.ref(), y.ref());
            b.cpu.batchNormTrainForwardAddRelu(x.dut(), gamma.dut(), beta.dut(), 0.1f, 1e-5f, rm.dut(), rv.dut(),
                    mean.dut(), invStd.dut(), res.dut(), y.dut());
            b.close(what + " saveMean", mean, 1e-6, 1e-6);
            b.close(what + " saveInvStd", invStd, 0, 1e-5);
            b.close(what + " runningMean", rm, 1e-6, 1e-6);
            b.close(what + " runningVar", rv, 0, 1e-5);
            b.close(what + " y", y, 5e-5, 1e-5);
            b.cpu.batchNormTrainForward(x.dut(), gamma.dut(), beta.dut(), 0.1f, 1e-5f, rm2.dut(), rv2.dut(),
                    mean2.dut(), invStd2.dut(), y2.dut(), false);
            b.cpu.addRelu(y2.dut(), res.dut(), y2.dut());
            for (Pair[] same : new Pair[][] {{y, y2}, {mean, mean2}, {invStd, invStd2}, {rm, rm2}, {rv, rv2}}) {
                for (long i = 0; i < same[0].dut().numel(); i++) {
                    assertEquals(Float.floatToRawIntBits(same[1].dut().getFloat(i)),
                            Float.floatToRawIntBits(same[0].dut().getFloat(i)), what + ": element " + i
                                    + " differs from batchNormTrainForward then addRelu");
                }
            }
        }
    }

    @Test
    void inferenceForwardMatchesRef() {
        for (int[] dims : SHAPES) {
            for (boolean relu : new boolean[] {false, true}) {
                int c = dims[dims.length - 1];
                Pair x = b.normal(31, 1, dims), gamma = b.uniform(32, 0.5, 1.5, c), beta = b.normal(33, 1, c);
                Pair rm = b.normal(34, 1, c), rv = b.uniform(35, 0.5, 2, c), y = b.zeros(dims);
                b.ref.batchNormInferenceForward(x.ref(), gamma.ref(), beta.ref(), rm.ref(), rv.ref(), 1e-5f, y.ref(),
                        relu);
                b.cpu.batchNormInferenceForward(x.dut(), gamma.dut(), beta.dut(), rm.dut(), rv.dut(), 1e-5f, y.dut(),
                        relu);
                b.close("batchNormInferenceForward " + Shape.of(dims) + " relu=" + relu, y, 5e-5, 1e-5);
            }
        }
    }

    @Test
    void backwardAccumulatesLikeRef() {
        for (int[] dims : SHAPES) {
            for (boolean relu : new boolean[] {false, true}) {
                backward(dims, relu, true);
                backward(dims, relu, false);
            }
        }
    }

    // accumulate false: the cpu dx starts NaN and must be overwritten (the Backend default, which ref uses,
    // zeroes first); dgamma and dbeta accumulate either way.
    private void backward(int[] dims, boolean relu, boolean accumulate) {
        int c = dims[dims.length - 1];
        String what = "batchNormBackward " + Shape.of(dims) + " relu=" + relu + " accumulate=" + accumulate;
        Pair x = b.normal(41, 1, dims), gamma = b.uniform(42, 0.5, 1.5, c), beta = b.normal(43, 1, c);
        Pair rm = b.zeros(c), rv = b.zeros(c), mean = b.zeros(c), invStd = b.zeros(c), y = b.zeros(dims);
        // The forward runs on ref only and its outputs are mirrored, so both backward passes see the
        // same saved statistics and the same ReLU mask (a y within rounding of 0 must not flip).
        b.ref.batchNormTrainForward(x.ref(), gamma.ref(), beta.ref(), 0.1f, 1e-5f, rm.ref(), rv.ref(), mean.ref(),
                invStd.ref(), y.ref(), relu);
        b.mirror(mean);
        b.mirror(invStd);
        b.mirror(y);
        Pair dy = b.normal(44, 1, dims), dx = b.normal(45, 1, dims);
        Pair dgamma = b.normal(46, 1, c), dbeta = b.normal(47, 1, c);
        if (!accumulate) {
            b.cpu.fill(dx.dut(), Float.NaN);
        }
        b.ref.batchNormBackward(x.ref(), dy.ref(), gamma.ref(), mean.ref(), invStd.ref(), relu ? y.ref() : null,
                relu, dx.ref(), dgamma.ref(), dbeta.ref(), accumulate);
        b.cpu.batchNormBackward(x.dut(), dy.dut(), gamma.dut(), mean.dut(), invStd.dut(), relu ? y.dut() : null,
                relu, dx.dut(), dgamma.dut(), dbeta.dut(), accumulate);
        b.close(what + " dx", dx, 1e-4, 1e-4);
        b.close(what + " dgamma", dgamma, 1e-4, 1e-4);
        b.close(what + " dbeta", dbeta, 1e-4, 1e-4);
    }

    @Test
    void rejectsOneRowPerChannelAndAliasedOutput() {
        Pair x = b.normal(51, 1, 1, 1, 1, 5), p = b.zeros(5);
        var e = assertThrows(IllegalArgumentException.class, () -> b.cpu.batchNormTrainForward(x.dut(), p.dut(),
                p.dut(), 0.1f, 1e-5f, p.dut(), p.dut(), p.dut(), p.dut(), b.zeros(1, 1, 1, 5).dut(), false));
        assertTrue(e.getMessage().startsWith("batchNormTrainForward"), e.getMessage());
        Pair x2 = b.normal(52, 1, 2, 3, 5);
        e = assertThrows(IllegalArgumentException.class, () -> b.cpu.batchNormTrainForward(x2.dut(), p.dut(),
                p.dut(), 0.1f, 1e-5f, p.dut(), p.dut(), p.dut(), p.dut(), x2.dut(), false));
        assertTrue(e.getMessage().contains("alias"), e.getMessage());
    }
}
