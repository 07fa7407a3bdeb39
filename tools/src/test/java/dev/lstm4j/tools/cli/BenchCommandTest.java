package dev.lstm4j.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lstm4j bench}: its table, CSV and usage errors. Never asserts speed. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private static CliSupport.CliRun run(String... args) {
        return CliSupport.run(args);
    }

    @Test
    void quickRowOnNativeAndLibTorchPrintsTableAndCsv() throws Exception {
        Path csv = dir.resolve("bench.csv");
        CliSupport.CliRun r = run("bench", "--quick", "--rows", "stream_b1_t1_h256", "--backends", "native,libtorch", "--csv",
                csv.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("ratios are time / LIBTORCH time in this run: < 1 is faster"), r.out());
        for (String backend : new String[] {"NATIVE", "LIBTORCH"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.matches("stream_b1_t1_h256\\s+" + backend + "\\s+cpu\\s.*")),
                    r.out());
        }

        List<String> lines = Files.readAllLines(csv);
        assertEquals(3, lines.size(), String.join("\n", lines));
        assertEquals("config,backend,device,median_ms,gflops,fma_peak_gflops,ratio_vs_libtorch,"
                + "max_abs_diff_vs_libtorch,note", lines.get(0));
        int libtorchRows = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(9, f.length, line);
            assertEquals("stream_b1_t1_h256", f[0], line);
            assertEquals("cpu", f[2], line);
            double ms = Double.parseDouble(f[3]);
            assertTrue(Double.isFinite(ms) && ms >= 0, line);
            double gflops = Double.parseDouble(f[4]);
            double peak = Double.parseDouble(f[5]);
            // gflops is the row's GEMM flops over the median time, printed to 0.1 (0.0 on a slow, loaded machine)
            double expected = dev.lstm4j.tools.bench.BenchmarkRow.named(f[0]).flops() / (ms * 1e6);
            assertEquals(expected, gflops, 0.05 + expected * (1e-3 + 6e-5 / ms), line); // ms is printed to 1e-4
            assertTrue(peak > 0, line);
            double ratio = Double.parseDouble(f[6]);
            assertTrue(Double.isFinite(ratio) && ratio >= 0, line);
            double diff = Double.parseDouble(f[7]);
            assertTrue(diff >= 0 && diff <= 1e-4, line);
            assertEquals("", f[8], line);
            if (f[1].equals("LIBTORCH")) {
                assertEquals(1.0, ratio, 0.0, line);
                libtorchRows++;
            } else {
                assertEquals("NATIVE", f[1], line);
            }
        }
        assertEquals(1, libtorchRows, String.join("\n", lines));
    }

    /**
     * {@code --peers} with a stand-in peer process (the DJL one is a separate project that CI does not
     * build): its timed row joins the table and the CSV with its ratio, and a row it fails on says why.
     */
    @Test
    void peerRowsJoinTheTableAndTheCsv() throws Exception {
        Path csv = dir.resolve("peers.csv");
        String cp = System.getProperty("lstm4j.peers.djl.classpath");
        String main = System.getProperty("lstm4j.peers.djl.main");
        System.setProperty("lstm4j.peers.djl.classpath", Path.of("target", "test-classes").toAbsolutePath().toString());
        System.setProperty("lstm4j.peers.djl.main", FakePeer.class.getName());
        CliSupport.CliRun r;
        try {
            r = run("bench", "--quick", "--peers", "--rows", "stream_b1_t1_h256,b1_t128_h256", "--backends",
                    "native,libtorch", "--csv", csv.toString());
        } finally {
            restore("lstm4j.peers.djl.classpath", cp);
            restore("lstm4j.peers.djl.main", main);
        }
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("stream_b1_t1_h256\\s+DJL\\s+cpu\\s+2\\.0000\\s.*1\\.000e-07")),
                r.out());
        assertTrue(r.out().contains("NATIVE / DJL = "), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches(
                "b1_t128_h256\\s+DJL\\s+error: EngineException: shape mismatch, say")), r.out());
        List<String> lines = Files.readAllLines(csv);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("stream_b1_t1_h256,DJL,cpu,2.0000,")), lines.toString());
        assertTrue(lines.contains("b1_t128_h256,DJL,cpu,,,"
                + lines.get(1).split(",")[5] + ",,,\"error: EngineException: shape mismatch, say\""), lines.toString());
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void usageErrorsExitTwoNamingTheProblem() {
        CliSupport.CliRun r = run("bench", "--rows", "no_such_row");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown benchmark row 'no_such_row'"), r.err());
        r = run("bench", "--backends", "tpu");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--backends: backend: expected one of"), r.err());
        r = run("bench", "--csv");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Missing required parameter for option '--csv'"), r.err());
        assertEquals(2, run("bench", "--frobnicate").code());
        assertEquals(2, run("bench", "--rows", "a,,b").code());
    }
}
