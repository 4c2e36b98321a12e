package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.densecl.backend.blas.OpenBlas;
import org.densecl.backend.cpu.parallel.Parallel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The FFM binding itself: lookup, symbol resolution, thread setting and the error a user sees. */
class OpenBlasTest {

    @Test
    void loadsAndResolvesEverySymbol() {
        String reason = OpenBlas.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "SKIPPED: OpenBLAS not loadable here: " + reason);
        OpenBlas blas = OpenBlas.load(); // the constructor resolves every symbol or throws
        assertTrue(!blas.origin().isBlank());
        int before = blas.threads();
        try {
            blas.setThreads(1);
            assertEquals(1, blas.threads());
        } finally {
            blas.setThreads(before);
        }
    }

    @Test
    void missingLibraryNamesWhatWasTried() {
        Path bogus = Path.of("/nonexistent/dir/libopenblas.so.0");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> OpenBlas.loadFrom(bogus));
        assertTrue(e.getMessage().contains(bogus.toString()), e.getMessage());
    }

    @Test
    void libraryWithoutTheSymbolsIsRejected() {
        // libm is on every glibc system and is certainly not OpenBLAS.
        Path libm = Path.of("/lib/x86_64-linux-gnu/libm.so.6");
        Assumptions.assumeTrue(libm.toFile().exists(), () -> "SKIPPED: no " + libm + " on this machine");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> OpenBlas.loadFrom(libm));
        assertTrue(e.getMessage().contains("cblas_sgemm"), e.getMessage());
    }

    @Test
    void unknownProviderIsAnError() {
        try (Parallel p = new Parallel(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CpuGemm(p, "cublas"));
            assertTrue(e.getMessage().contains("cublas") && e.getMessage().contains("openblas"), e.getMessage());
        }
    }
}
