package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tools.golden.GoldenCase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Lstm.create(config, weights)} and {@code LstmCell.create(config, weights)} pick NATIVE where its
 * native library loads and JAVA where it does not, and say so; an explicit backend never falls back.
 * The class path without the natives is covered by {@link PureJavaClassPathTest}.
 */
class DefaultBackendTest {
    static final String LSTM_CASE = "proj_bilstm_l2_b4_t10_i8_h16_p6_hx";
    static final String CELL_CASE = "cell_b3_i5_h7_hx";

    @TempDir
    Path tmp;

    @Test
    void nativeWhereItsLibraryLoads() throws Exception {
        DefaultBackendProbe.capture();
        GoldenCase lc = GoldenCase.load(TestSupport.goldenDir().resolve(LSTM_CASE + ".safetensors"));
        GoldenCase cc = GoldenCase.load(TestSupport.goldenDir().resolve(CELL_CASE + ".safetensors"));
        try (Lstm lstm = Lstm.create(lc.lstmConfig(), lc.weights());
             LstmCell cell = LstmCell.create(cc.cellConfig(), cc.weights())) {
            assertEquals(Backend.NATIVE, lstm.backend());
            assertEquals(Backend.NATIVE, cell.backend());
            LstmOutput out = lstm.forward(lc.tensor("input"), lc.tensor("h0"), lc.tensor("c0"));
            assertTrue(out.output().maxAbsDiff(lc.tensor("output")) <= lc.tolerance());
        }
        assertTrue(Backend.NATIVE.isAvailable());
        assertEquals("", Backend.NATIVE.unavailableReason());
        assertEquals(List.of(), DefaultBackendProbe.RECORDS.stream().map(r -> r.getMessage())
                .collect(Collectors.toList()), "nothing to say when NATIVE loads");
    }

    /** A broken install: LibTorch files that are not libraries (-Dlstm4j.libtorch.dir), in a child JVM. */
    @Test
    void brokenNativeInstallFallsBackToJavaAndSaysWhyOnce() throws Exception {
        Path broken = Files.createDirectories(tmp.resolve("broken-libtorch"));
        Files.write(broken.resolve("libc10.so"), new byte[0]);
        Files.write(broken.resolve("libtorch_cpu.so"), new byte[0]);
        List<String> out = probe(List.of("-Dlstm4j.libtorch.dir=" + broken));
        String reason = broken.resolve("libc10.so") + ": ";
        assertFallback(out, reason);
    }

    /** Runs {@link DefaultBackendProbe} in a child JVM; returns its output lines (exit 0 checked). */
    static List<String> probe(List<String> jvmArgs) throws Exception {
        ForkedJvm.Result r = ForkedJvm.run(ForkedJvm.command(jvmArgs, DefaultBackendProbe.class,
                TestSupport.goldenDir().resolve(LSTM_CASE + ".safetensors").toString(),
                TestSupport.goldenDir().resolve(CELL_CASE + ".safetensors").toString()), null, 120);
        assertEquals(0, r.code(), r.out());
        return r.out().lines().collect(Collectors.toList());
    }

    /**
     * JAVA for every model created without a backend, within the golden tolerance; one INFO line naming
     * NATIVE and {@code reason}; naming NATIVE fails with that reason.
     */
    static void assertFallback(List<String> out, String reason) {
        String all = String.join("\n", out);
        List<String[]> runs = out.stream().filter(l -> l.startsWith("lstm ") || l.startsWith("cell "))
                .map(l -> l.split(" ")).collect(Collectors.toList());
        assertEquals(4, runs.size(), all);
        for (String[] run : runs) {
            assertEquals("JAVA", run[1], all);
            assertTrue(Double.parseDouble(run[2]) <= Double.parseDouble(run[3]), all);
        }
        List<String> logs = out.stream().filter(l -> l.startsWith("log ")).collect(Collectors.toList());
        assertEquals(1, logs.size(), "one line per process and reason: " + all);
        System.out.println("fallback " + logs.get(0));
        assertTrue(logs.get(0).startsWith("log INFO lstm4j uses backend JAVA") && logs.get(0).contains("NATIVE")
                && logs.get(0).contains(reason), all);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("explicit refused backend NATIVE") && l.contains(reason)), all);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("available false ") && l.contains(reason)), all);
    }
}
