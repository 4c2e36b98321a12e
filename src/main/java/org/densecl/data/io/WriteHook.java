package org.densecl.data.io;

import java.nio.channels.WritableByteChannel;

/**
 * A seam in the atomic writers ({@link AtomicFiles}, safetensors): wraps the channel a file's bytes go through
 * before the rename. Production code passes {@link #NONE}; a test passes a channel that fails part-way, as a
 * full disk would, to prove that the previous file survives and the error names the file and the cause.
 */
@FunctionalInterface
public interface WriteHook {
    WriteHook NONE = file -> file;

    WritableByteChannel wrap(WritableByteChannel file);
}
