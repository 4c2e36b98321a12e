package org.densecl.backend.cuda;

/**
 * A CUDA library call returned an error status. The message names the call, the library's error name
 * and its error string, e.g. {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)}.
 */
public class CudaException extends RuntimeException {
    private final int status;

    public CudaException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The library's status code (CUresult, cublasStatus_t, cudnnStatus_t, ...). */
    public int status() {
        return status;
    }
}
