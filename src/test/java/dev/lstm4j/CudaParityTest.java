package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tools.golden.GoldenCase;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every golden case on {@code cuda:0} through the NATIVE backend (float32 and float64 within the CPU
 * tolerances; the float32 LSTM cases also in bfloat16 and float16 within their bounds, GoldenCase.tolerance(Precision)). On a machine without
 * CUDA (the CI machines) these tests are skipped, and the skip says why; everything else runs
 * everywhere. {@code scripts/gpu-check.sh} runs the same cases from the command line.
 */
class CudaParityTest {
    @BeforeEach
    void needsCuda() {
        int count = Backend.NATIVE.cudaDeviceCount();
        Assumptions.assumeTrue(count > 0, () -> "no CUDA device here: " + Backend.NATIVE.cudaUnavailableReason());
    }

    @Test
    void goldenCasesOnCuda() throws IOException {
        for (Path file : TestSupport.goldenFiles()) {
            GoldenCase c = GoldenCase.load(file);
            double err = c.run(Backend.NATIVE, Device.cuda(0));
            assertTrue(err <= c.tolerance(), c.name() + " on cuda:0: " + err);
        }
    }

    @Test
    void sixteenBitPrecisionsOnCuda() throws IOException {
        for (Precision p : new Precision[] {Precision.BFLOAT16, Precision.FLOAT16}) {
            for (Path file : TestSupport.goldenFiles()) {
                GoldenCase c = GoldenCase.load(file);
                if (c.supports(p)) {
                    double err = c.run(Backend.NATIVE, Device.cuda(0), p);
                    assertTrue(err <= c.tolerance(p), c.name() + " in " + p + " on cuda:0: " + err);
                }
            }
        }
    }
}
