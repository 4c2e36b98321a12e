package org.densecl.io;

/**
 * A safetensors file that cannot be used: corrupt or truncated, an unsupported element type, or a
 * tensor that is missing or of the wrong type or shape. The message is one line and names the file.
 */
public class SafeTensorsException extends RuntimeException {
    public SafeTensorsException(String message) {
        super(message);
    }

    public SafeTensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
