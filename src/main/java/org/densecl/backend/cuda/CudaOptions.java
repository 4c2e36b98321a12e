package org.densecl.backend.cuda;

import java.util.Locale;

/**
 * The cuda backend's knobs, from the part of a backend name after "cuda:" ({@code --backend cuda:fp32},
 * {@code cuda:tf32,bn=cudnn}; plain "cuda" is the defaults): comma-separated, a precision word and
 * key=value pairs.
 *
 * @param precision              GEMM and convolution math (default tf32)
 * @param cudnnBatchNorm         batch norm on cuDNN's legacy routines instead of our kernels (bn=cudnn)
 * @param cublasWorkspaceBytes   cuBLAS's fixed workspace (32 MiB, NVIDIA's advice for Hopper)
 * @param convWorkspaceLimit     the most workspace one convolution algorithm may use (2 GiB)
 */
public record CudaOptions(CudaPrecision precision, boolean cudnnBatchNorm, long cublasWorkspaceBytes,
                          long convWorkspaceLimit) {

    public static CudaOptions defaults() {
        return new CudaOptions(CudaPrecision.TF32, false, 32L << 20, 2L << 30);
    }

    /** "" or e.g. "fp32", "bf16,bn=cudnn", "bn=kernels,convws=512m". */
    public static CudaOptions parse(String spec) {
        CudaOptions o = defaults();
        for (String part : spec.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            if (p.startsWith("bn=")) {
                String v = p.substring(3);
                if (!v.equals("cudnn") && !v.equals("kernels")) {
                    throw new IllegalArgumentException("cuda backend: bn=" + v + "; choose bn=kernels (default) or"
                            + " bn=cudnn");
                }
                o = new CudaOptions(o.precision, v.equals("cudnn"), o.cublasWorkspaceBytes, o.convWorkspaceLimit);
            } else if (p.startsWith("convws=")) {
                o = new CudaOptions(o.precision, o.cudnnBatchNorm, o.cublasWorkspaceBytes, bytes(p.substring(7)));
            } else {
                o = new CudaOptions(CudaPrecision.parse(p), o.cudnnBatchNorm, o.cublasWorkspaceBytes,
                        o.convWorkspaceLimit);
            }
        }
        return o;
    }

    /** "512m", "2g", "1048576". */
    private static long bytes(String v) {
        try {
            long unit = v.endsWith("g") ? 1L << 30 : v.endsWith("m") ? 1L << 20 : 1;
            return Long.parseLong(unit == 1 ? v : v.substring(0, v.length() - 1)) * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cuda backend: convws=" + v + " is not a size (e.g. 512m, 2g)");
        }
    }

    @Override
    public String toString() {
        return precision + (cudnnBatchNorm ? ", cuDNN batch norm" : "");
    }
}
