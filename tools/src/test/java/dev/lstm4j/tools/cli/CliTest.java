package dev.lstm4j.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's output format and exit codes. */
class CliTest {
    @TempDir
    Path dir;

    private static CliSupport.CliRun run(String... args) {
        return CliSupport.run(args);
    }

    private static String[] verifyArgs(String backend) throws Exception {
        List<String> a = new ArrayList<>(List.of("verify", "--backend", backend, "--device", "cpu"));
        for (Path p : CliSupport.goldenFiles()) {
            a.add(p.toString());
        }
        return a.toArray(new String[0]);
    }

    @Test
    void verifyPassesEveryGoldenCaseOnEveryBackend() throws Exception {
        int n = CliSupport.goldenFiles().size();
        for (String backend : new String[] {"native", "libtorch"}) {
            CliSupport.CliRun r = run(verifyArgs(backend));
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains(n + " passed, 0 failed"), r.out());
            assertTrue(r.out().lines().filter(l -> l.matches("\\S+ max_abs_err=\\S+ PASS")).count() == n, r.out());
        }
    }

    @Test
    void badFilesExitTwoWithOneLineNamingFileAndProblem() throws Exception {
        Path missing = dir.resolve("missing.safetensors");
        Path truncated = dir.resolve("truncated.safetensors");
        byte[] good = Files.readAllBytes(CliSupport.goldenDir().resolve("tiny_l1_b1_t1_i1_h1_hx.safetensors"));
        Files.write(truncated, Arrays.copyOf(good, 100));
        Path junk = dir.resolve("junk.safetensors");
        Files.writeString(junk, "this is not a safetensors file at all");
        Path good1 = CliSupport.goldenDir().resolve("tiny_l1_b1_t1_i1_h1_hx.safetensors");
        CliSupport.CliRun r = run("verify", missing.toString(), truncated.toString(), junk.toString(), good1.toString());
        assertEquals(2, r.code());
        List<String> errs = r.err().lines().toList();
        assertEquals(3, errs.size(), r.err());
        assertTrue(errs.get(0).startsWith(missing.toString()) && errs.get(0).contains("no such file"), errs.get(0));
        assertTrue(errs.get(1).startsWith(truncated.toString()) && errs.get(1).contains("truncated"), errs.get(1));
        assertTrue(errs.get(2).startsWith(junk.toString()), errs.get(2));
        assertTrue(r.out().contains("1 passed, 0 failed"), r.out());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run().code());
        assertEquals(2, run("frobnicate").code());
        assertEquals(2, run("verify").code());
        CliSupport.CliRun r = run("verify", "--backend", "tpu", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("backend: expected one of"), r.err());
    }

    /** Without CUDA, cuda:0 exits 2 saying CUDA is not available; with CUDA, a missing index does. */
    @Test
    void verifyOnAnUnusableCudaDeviceExitsTwoSayingWhy() throws Exception {
        int count = Backend.NATIVE.cudaDeviceCount();
        Path good = CliSupport.goldenDir().resolve("tiny_l1_b1_t1_i1_h1_hx.safetensors");
        CliSupport.CliRun r = run("verify", "--device", "cuda:" + count, good.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(count == 0 ? "cuda:0 cannot be used: CUDA is not available: "
                : "cuda:" + count + " does not exist"), r.err());
    }

    /**
     * {@code run} on a checkpoint inside a larger model reproduces its golden case on every CPU backend,
     * with and without lengths; {@code inspect} prints the inferred configuration.
     */
    @Test
    void inspectAndRunACheckpoint() throws Exception {
        String caseName = "proj_bilstm_l2_b4_t10_i8_h16_p6_hx";
        Path model = CliSupport.checkpointDir().resolve(caseName + ".tagger.pt");
        CliSupport.CliRun i = run("inspect", model.toString(), "--prefix", "encoder.");
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("inferred: LSTM(8, 16, num_layers=2, bidirectional=True, proj_size=6)"), i.out());
        dev.lstm4j.tools.golden.GoldenCase c = dev.lstm4j.tools.golden.GoldenCase.load(
                CliSupport.goldenDir().resolve(caseName + ".safetensors"));
        Path in = dir.resolve("in.safetensors");
        java.util.Map<String, Object> inputs = new java.util.LinkedHashMap<>();
        inputs.put("input", c.tensor("input"));
        inputs.put("h0", c.tensor("h0"));
        inputs.put("c0", c.tensor("c0"));
        inputs.put("lengths", new long[] {10, 10, 10, 10});
        dev.lstm4j.io.Safetensors.write(in, inputs, java.util.Map.of());
        for (String backend : new String[] {"native", "java", "libtorch"}) {
            for (boolean lengths : new boolean[] {false, true}) {
                Path out = dir.resolve(backend + lengths + ".safetensors");
                List<String> a = new ArrayList<>(List.of("run", "--weights", model.toString(), "--prefix", "encoder.",
                        "--input", in.toString(), "--batch-first", "--backend", backend, "--out", out.toString()));
                if (lengths) {
                    a.add("--lengths");
                }
                CliSupport.CliRun r = run(a.toArray(new String[0]));
                assertEquals(0, r.code(), r.out() + r.err());
                dev.lstm4j.io.Safetensors.Contents got = dev.lstm4j.io.Safetensors.read(out);
                for (String k : new String[] {"output", "h_n", "c_n"}) {
                    double err = got.tensors().get(k).maxAbsDiff(c.tensor(k));
                    assertTrue(err <= c.tolerance(), backend + " " + k + ": " + err);
                }
            }
        }
        CliSupport.CliRun bad = run("run", "--weights", model.toString(), "--input", in.toString(), "--out",
                dir.resolve("x.safetensors").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("not a torch.nn.LSTM state_dict"), bad.err());
    }

    @Test
    void demoRunsEveryBackendAndAgreesWithPyTorch() {
        CliSupport.CliRun r = run("demo");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("NATIVE") && l.contains("PASS")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("LIBTORCH") && l.contains("PASS")), r.out());
    }
}
