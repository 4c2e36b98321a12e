package org.densecl.backend.cuda;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.densecl.backend.ConvGeometry;

/**
 * The algorithm each convolution shape and direction keeps: asked of cuDNN once (its heuristic ranking,
 * {@code cudnnGetConvolution*Algorithm_v7}), picked by {@link ConvAlgo#pick} under the workspace limit and
 * cached for the life of the backend. The geometry record is the key: it holds every number the descriptors
 * are built from (N, H, W, C, K, R, S, strides, pads, dilations), and the backend's precision is fixed.
 */
final class ConvPlans {
    enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    record Key(ConvGeometry geometry, Direction direction) {}

    /** cuDNN's ranking for one shape and direction (the Cudnn calls; a fake in tests). */
    interface Ranking {
        List<ConvAlgo> rank(ConvGeometry g, Direction d);
    }

    private final Ranking ranking;
    private final long workspaceLimit;
    private final Map<Key, ConvAlgo> chosen = new HashMap<>();

    /** @param workspaceLimit the most workspace bytes one convolution may use */
    ConvPlans(Ranking ranking, long workspaceLimit) {
        this.ranking = ranking;
        this.workspaceLimit = workspaceLimit;
    }

    ConvAlgo algo(ConvGeometry g, Direction d) {
        Key key = new Key(g, d);
        ConvAlgo a = chosen.get(key);
        if (a == null) {
            a = ConvAlgo.pick(ranking.rank(g, d), workspaceLimit, d + " " + g);
            chosen.put(key, a);
        }
        return a;
    }

    /** Shapes and directions planned so far. */
    int size() {
        return chosen.size();
    }

    /** The largest workspace any planned convolution needs: what the shared workspace grows to. */
    long largestWorkspace() {
        long max = 0;
        for (ConvAlgo a : chosen.values()) {
            max = Math.max(max, a.memory());
        }
        return max;
    }
}
