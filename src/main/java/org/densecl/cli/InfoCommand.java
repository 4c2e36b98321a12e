package org.densecl.cli;

import java.util.concurrent.Callable;
import org.densecl.backend.Backends;
import org.densecl.experiment.MachineInfo;
import picocli.CommandLine.Command;

/** Prints what this machine offers: JDK, cores, SIMD width, backends, GEMM providers and the CUDA device. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the JDK, cores, SIMD width, which backends and GEMM providers load here, and the CUDA device.")
public final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("java       " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        System.out.println("cores      " + Runtime.getRuntime().availableProcessors());
        System.out.println("cpu        " + MachineInfo.cpuLine());
        System.out.println("backends   " + String.join(", ", Backends.NAMES));
        String blas = org.densecl.backend.blas.OpenBlas.unavailableReason();
        System.out.println("gemm       vector" + (blas == null ? ", openblas" : " (openblas: " + blas + ")"));
        System.out.println("cuda       " + org.densecl.backend.cuda.CudaDevices.probe().describe());
        return 0;
    }
}
