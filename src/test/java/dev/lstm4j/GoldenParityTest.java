package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tools.golden.GoldenCase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case computed by PyTorch (all 21 files of the folder, see {@link TestSupport#GOLDEN_CASES}),
 * on every backend, against PyTorch's float64 truth: float32 within 5e-6 max abs, float64 within 1e-12.
 * A backend that cannot run here fails its cases; nothing is skipped.
 */
class GoldenParityTest {
    private static final Map<Backend, double[]> WORST = new EnumMap<>(Backend.class);

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> args = new ArrayList<>();
        for (Path p : TestSupport.goldenFiles()) {
            for (Backend b : Backend.values()) {
                args.add(Arguments.of(b, p.getFileName().toString(), p));
            }
        }
        return args.stream();
    }

    /** All 21 cases, and nothing else in the folder: {@link #cases()} runs each on every backend. */
    @Test
    void allGoldenCasesArePresent() throws IOException {
        List<Path> files = TestSupport.goldenFiles();
        assertEquals(21, files.size(), files.toString());
        assertEquals(21 * Backend.values().length, cases().count());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(Backend backend, String name, Path file) throws IOException {
        GoldenCase c = GoldenCase.load(file);
        double err = c.run(backend, Device.cpu());
        synchronized (WORST) {
            double[] w = WORST.computeIfAbsent(backend, k -> new double[2]);
            int slot = c.dtype() == DType.FLOAT64 ? 1 : 0;
            w[slot] = Math.max(w[slot], err);
        }
        System.out.printf("%-9s %-45s max_abs_err=%.3e (tolerance %.0e)%n", backend, c.name(), err, c.tolerance());
        assertTrue(err <= c.tolerance(), backend + " " + c.name() + ": max_abs_err " + err + " > " + c.tolerance());
    }

    /**
     * The NATIVE device scan, the code path of CUDA devices, run here on LibTorch's CPU operations
     * ({@code lstm4j.native.cpuAlgorithm=device}): every golden case within the same tolerance.
     */
    @Test
    void nativeDeviceScanOnCpuMatchesPyTorch() throws IOException {
        String key = "lstm4j.native.cpuAlgorithm";
        String before = System.getProperty(key);
        System.setProperty(key, "device");
        try {
            int n = 0;
            for (Path file : TestSupport.goldenFiles()) {
                GoldenCase c = GoldenCase.load(file);
                double err = c.run(Backend.NATIVE, Device.cpu());
                assertTrue(err <= c.tolerance(), "device scan " + c.name() + ": max_abs_err " + err);
                n++;
            }
            assertEquals(TestSupport.GOLDEN_CASES.size(), n);
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    @AfterAll
    static void report() {
        WORST.forEach((b, w) -> System.out.printf("worst error %s: float32 %.3e, float64 %.3e%n", b, w[0], w[1]));
    }
}
