package dev.lstm4j.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Tensor;
import dev.lstm4j.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's answers to bad files and bad arguments (issue 13 items 7, 9 and 12): one line naming
 * the problem, a documented exit code, a stack trace only with --debug or for a bug.
 */
class UserErrorTest {
    private static final String TINY = "tiny_l1_b1_t1_i1_h1_hx.safetensors";

    @TempDir
    Path dir;

    private static void assertNoStackTrace(CliSupport.CliRun r) {
        assertFalse(r.err().contains("\tat ") || r.out().contains("\tat "), "stack trace: " + r);
    }

    /** A copy of a golden case with one tensor replaced and/or metadata entries changed. */
    private Path editedCase(String name, String source, Map<String, String> meta, Map<String, Tensor> tensors)
            throws Exception {
        Safetensors.Contents c = Safetensors.read(CliSupport.goldenDir().resolve(source));
        Map<String, Object> all = new LinkedHashMap<>(c.tensors());
        all.putAll(c.int64Tensors());
        all.putAll(tensors);
        Map<String, String> m = new LinkedHashMap<>(c.metadata());
        m.putAll(meta);
        Path p = dir.resolve(name);
        Safetensors.write(p, all, m);
        return p;
    }

    @Test
    void verifyGoesOnPastACaseWhoseDataDoesNotFitItsMetadata() throws Exception {
        // metadata: input_size 1; this input has 3 features
        Path bad = editedCase("misfit.safetensors", TINY, Map.of(),
                Map.of("input", Tensor.zeros(dev.lstm4j.DType.FLOAT32, 1, 1, 3)));
        Path good = CliSupport.goldenDir().resolve(TINY);
        for (String backend : new String[] {"java", "native"}) {
            CliSupport.CliRun r = CliSupport.run("verify", "--backend", backend, bad.toString(), good.toString());
            assertEquals(Main.BAD_INPUT, r.code(), r.toString());
            List<String> errs = r.err().lines().toList();
            assertEquals(1, errs.size(), r.err());
            assertTrue(errs.get(0).startsWith(bad + ": does not fit its metadata: ") && errs.get(0).contains("input_size"),
                    errs.get(0));
            assertTrue(r.out().contains("tiny_l1_b1_t1_i1_h1_hx max_abs_err="), "the next case still ran: " + r.out());
            assertTrue(r.out().contains("1 passed, 0 failed"), r.out());
            assertNoStackTrace(r);
        }
    }

    /** A precision the device cannot run is the run's problem, said once, not each case's. */
    @Test
    void verifyInAPrecisionTheDeviceCannotRunSaysSoOnce() {
        CliSupport.CliRun r = CliSupport.run("verify", "--precision", "bfloat16", "--device", "cpu",
                CliSupport.goldenDir().resolve(TINY).toString(),
                CliSupport.goldenDir().resolve("lstm_l2_b8_t32_i64_h128.safetensors").toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("lstm4j verify: precision: "), r.err());
        assertNoStackTrace(r);
    }

    @Test
    void aGoldenCaseOfAnotherKindIsRefused() throws Exception {
        Path gru = editedCase("gru.safetensors", TINY, Map.of("kind", "gru"), Map.of());
        CliSupport.CliRun r = CliSupport.run("verify", "--backend", "java", gru.toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertTrue(r.err().contains(gru + ": unsupported golden case kind 'gru': expected lstm (torch.nn.LSTM) or cell"),
                r.err());
        assertTrue(r.out().contains("0 passed, 0 failed"), r.out());
        assertNoStackTrace(r);
    }

    @Test
    void inspectNamesAMissingPrefixAndThePrefixesThereAre() {
        Path model = CliSupport.checkpointDir().resolve("proj_bilstm_l2_b4_t10_i8_h16_p6_hx.tagger.pt");
        CliSupport.CliRun r = CliSupport.run("inspect", model.toString(), "--prefix", "nosuch.");
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertTrue(r.err().contains("'nosuch.'") && r.err().contains("encoder.") && r.err().contains("head."), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertNoStackTrace(r);
    }

    @Test
    void inspectOnADirectoryOrAMissingFileSaysSo() {
        CliSupport.CliRun r = CliSupport.run("inspect", dir.toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertEquals("lstm4j inspect: " + dir + ": is a directory, expected a file", r.err().strip());
        r = CliSupport.run("verify", "--backend", "java", dir.toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertEquals(dir + ": is a directory, expected a file", r.err().strip());
        r = CliSupport.run("inspect", dir.resolve("nope.pt").toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertEquals("lstm4j inspect: " + dir.resolve("nope.pt") + ": no such file", r.err().strip());
    }

    @Test
    void malformedModelsGiveOneLine() throws Exception {
        Path junk = dir.resolve("junk.pt");
        Files.writeString(junk, "PK this is not a checkpoint");
        CliSupport.CliRun r = CliSupport.run("inspect", junk.toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(junk.toString()), r.err());
        assertNoStackTrace(r);
    }

    @Test
    void debugPrintsTheStackTrace() {
        CliSupport.CliRun r = CliSupport.run("inspect", "--debug", dir.toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertTrue(r.err().startsWith("lstm4j inspect: " + dir + ": is a directory"), r.err());
        assertTrue(r.err().contains("\tat dev.lstm4j.tools.cli."), r.err());
    }

    /** A command that fails the way a run can fail without a bug. */
    @picocli.CommandLine.Command(name = "thrower")
    static final class Thrower implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Option(names = "--debug")
        boolean debug;

        @picocli.CommandLine.Parameters
        String what;

        @Override
        public Integer call() {
            switch (what) {
                case "link":
                    throw new UnsatisfiedLinkError("libtorch_cpu.so: cannot open shared object file");
                case "memory":
                    throw new OutOfMemoryError("Java heap space");
                case "native":
                    throw new RuntimeException("CUDA out of memory. Tried to allocate 2.00 GiB");
                default:
                    throw new NullPointerException("a bug");
            }
        }
    }

    private static CliSupport.CliRun runThrower(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Main.execute(Main.configure(new picocli.CommandLine(new Thrower()), new java.io.PrintWriter(out, true),
                new java.io.PrintWriter(err, true)), args);
        return new CliSupport.CliRun(code, out.toString(), err.toString());
    }

    @Test
    void runFailuresGiveOneLineAndBugsAStackTrace() {
        CliSupport.CliRun r = runThrower("link");
        assertEquals(Main.RUN_FAILED, r.code(), r.toString());
        assertEquals("lstm4j: a native library cannot be loaded: libtorch_cpu.so: cannot open shared object file",
                r.err().strip());
        r = runThrower("memory");
        assertEquals(Main.RUN_FAILED, r.code(), r.toString());
        assertTrue(r.err().startsWith("lstm4j: out of memory: Java heap space"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        r = runThrower("native");
        assertEquals(Main.RUN_FAILED, r.code(), r.toString());
        assertEquals("lstm4j: CUDA out of memory. Tried to allocate 2.00 GiB", r.err().strip());
        r = runThrower("--debug", "memory");
        assertEquals(Main.RUN_FAILED, r.code(), r.toString());
        assertTrue(r.err().contains("\tat dev.lstm4j.tools.cli.UserErrorTest$Thrower.call"), r.err());
        r = runThrower("bug");
        assertEquals(Main.INTERNAL_ERROR, r.code(), r.toString());
        assertTrue(r.err().startsWith("lstm4j: internal error (a bug, please report it): java.lang.NullPointerException"),
                r.err());
        assertTrue(r.err().contains("\tat dev.lstm4j.tools.cli.UserErrorTest$Thrower.call"), r.err());
    }

    /** Failures of the run itself and bugs get their own codes; only bugs print a stack trace unasked. */
    @Test
    void exitCodesOfFailures() {
        assertEquals(Main.BAD_INPUT, Main.exitCode(new IllegalArgumentException("input has inconsistent input_size")));
        assertEquals(Main.BAD_INPUT, Main.exitCode(new IllegalStateException("NATIVE is not available: ...")));
        assertEquals(Main.RUN_FAILED, Main.exitCode(new OutOfMemoryError("Java heap space")));
        assertEquals(Main.RUN_FAILED, Main.exitCode(new UnsatisfiedLinkError("no jnilstm4j")));
        assertEquals(Main.RUN_FAILED, Main.exitCode(new RuntimeException("c10::Error: out of memory")));
        assertEquals(Main.INTERNAL_ERROR, Main.exitCode(new NullPointerException()));
        assertEquals(Main.INTERNAL_ERROR, Main.exitCode(new ArrayIndexOutOfBoundsException(3)));
        assertTrue(Main.describe(new OutOfMemoryError("Java heap space")).startsWith("out of memory: Java heap space"));
    }
}
