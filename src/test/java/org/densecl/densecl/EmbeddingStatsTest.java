package org.densecl.densecl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The collapse indicators on hand-made batches whose values are known exactly. */
class EmbeddingStatsTest {
    @Test
    void aCollapsedBatchHasZeroSpreadAndEqualSimilarities() {
        int n = 4, d = 3, h = 2;
        float[] q = new float[n * d];
        for (int i = 0; i < n; i++) {
            q[i * d] = 1; // every image maps to e0
        }
        float[] hidden = {0, 1, 0, 2, 0, 3, 0, 4}; // unit 0 dead for all 4 images, unit 1 alive
        EmbeddingStats s = EmbeddingStats.of(q, q, hidden, n, d, h);
        assertEquals(0, s.qStd(), 1e-12);
        assertEquals(1, s.simPos(), 1e-12);
        assertEquals(1, s.simNeg(), 1e-12);
        assertEquals(0.5, s.deadHidden(), 1e-12);
    }

    @Test
    void orthogonalImagesAreSpreadAndOnlyPositivesMatch() {
        int n = 2, d = 2, h = 1;
        float[] q = {1, 0, 0, 1};   // two orthogonal unit queries
        float[] k = {1, 0, 0, 1};   // keys equal to their queries
        EmbeddingStats s = EmbeddingStats.of(q, k, new float[] {0, 0.5f}, n, d, h);
        // per dimension: values {1, 0} -> sample std sqrt(0.5); mean over dims sqrt(0.5); times sqrt(2) = 1
        assertEquals(1, s.qStd(), 1e-12);
        assertEquals(1, s.simPos(), 1e-12);
        assertEquals(0, s.simNeg(), 1e-12);
        assertEquals(0, s.deadHidden(), 1e-12); // alive for the second image
    }
}
