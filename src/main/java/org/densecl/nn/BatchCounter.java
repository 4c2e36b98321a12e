package org.densecl.nn;

/**
 * A BN layer's {@code num_batches_tracked}: how many training-mode forwards it has run.
 *
 * <p>Decision: this is a host-side {@code long}, not a tensor. torchvision stores it as an int64 scalar
 * buffer, but it only changes the computation when BN's momentum is None (a cumulative average), which
 * ResNet never uses (momentum 0.1), and our tensors have no 64-bit integer type. Keeping it on the host
 * costs no backend call and no device read, while the key still exists in the registry
 * ({@link Parameters#keys()}) in torchvision's order, so a checkpoint writer can emit
 * {@code bn1.num_batches_tracked} as an int64 scalar and a PyTorch {@code load_state_dict(strict=True)}
 * finds every key it expects.
 */
public final class BatchCounter {
    private final String name;
    private long count;

    BatchCounter(String name) {
        this.name = name;
    }

    /** The state-dict key, e.g. "layer1.0.bn1.num_batches_tracked". */
    public String name() {
        return name;
    }

    public long get() {
        return count;
    }

    /** Sets the count (a checkpoint being loaded, or an initialisation to 0). */
    public void set(long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + ": num_batches_tracked cannot be negative (" + value + ")");
        }
        count = value;
    }

    void increment() {
        count++;
    }

    @Override
    public String toString() {
        return name + " = " + count;
    }
}
