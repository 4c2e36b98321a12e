package org.densecl.backend.cuda;

/**
 * A CUDA library (or a device) could not be found or opened. The message is one line saying what was
 * looked for and every place that was tried, so a user can act on it (install, or set the override).
 */
public class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
