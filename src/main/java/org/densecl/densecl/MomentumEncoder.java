package org.densecl.densecl;

import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;

/**
 * The key encoder's momentum update (spec 1.3): theta_k = m * theta_k + (1 - m) * theta_q over the
 * TRAINABLE parameters only (convs, BN gamma/beta, neck). BN running statistics are not averaged: the key
 * encoder runs BN in train mode on its own batch statistics, so its running buffers are never read.
 * Pairs are matched by position in the two registries, which were declared by the same code and so hold
 * the same names (after the prefix) in the same order; the constructor checks shapes.
 */
public final class MomentumEncoder {
    private final Backend be;
    private final List<Param> query;
    private final List<Param> key;
    private final Parameters queryParams;
    private final Parameters keyParams;

    public MomentumEncoder(Backend be, Parameters queryParams, Parameters keyParams) {
        this.be = be;
        this.queryParams = queryParams;
        this.keyParams = keyParams;
        this.query = queryParams.trainable();
        this.key = keyParams.trainable();
        if (query.size() != key.size() || queryParams.all().size() != keyParams.all().size()) {
            throw new IllegalArgumentException("MomentumEncoder: query has " + queryParams.all().size()
                    + " entries, key " + keyParams.all().size() + "; the encoders must have one architecture");
        }
        for (int i = 0; i < queryParams.all().size(); i++) {
            Param q = queryParams.all().get(i), k = keyParams.all().get(i);
            if (!q.shape().equals(k.shape()) || q.role() != k.role()) {
                throw new IllegalArgumentException("MomentumEncoder: query " + q + " does not match key " + k);
            }
        }
    }

    /** The key encoder becomes an exact copy of the query encoder (parameters AND buffers): the init. */
    public void copyQueryToKey() {
        for (int i = 0; i < queryParams.all().size(); i++) {
            be.copy(queryParams.all().get(i).value(), keyParams.all().get(i).value());
        }
    }

    /** theta_k = m * theta_k + (1 - m) * theta_q for every trainable pair; m = 1 leaves the key as it is. */
    public void update(float m) {
        if (!(m >= 0 && m <= 1)) {
            throw new IllegalArgumentException("MomentumEncoder: momentum " + m + " must be in [0, 1]");
        }
        for (int i = 0; i < query.size(); i++) {
            be.emaUpdate(key.get(i).value(), query.get(i).value(), m);
        }
    }
}
