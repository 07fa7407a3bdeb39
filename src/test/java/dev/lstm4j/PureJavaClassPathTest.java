package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tools.golden.GoldenCase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs in its own Surefire execution whose class path has no JavaCPP and no LibTorch (pom.xml,
 * execution {@code pure-java}): the API and the JAVA backend must work there, and the native
 * backends must fail with a clear message instead of a linkage crash.
 */
class PureJavaClassPathTest {
    @Test
    void classPathReallyLacksJavaCpp() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.bytedeco.javacpp.Loader"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.bytedeco.pytorch.Tensor"));
    }

    @Test
    void everyGoldenCasePassesOnJava() throws Exception {
        int n = 0;
        for (Path p : TestSupport.goldenFiles()) {
            GoldenCase c = GoldenCase.load(p);
            double err = c.run(Backend.JAVA, Device.cpu());
            assertTrue(err <= c.tolerance(), c.name() + ": " + err);
            n++;
        }
        assertEquals(TestSupport.GOLDEN_CASES.size(), n, "golden cases run");
    }

    /** The .pt reader is pure Java too: a checkpoint inside a larger model runs its case on JAVA. */
    @Test
    void pytorchCheckpointLoadsAndRunsOnJava() throws Exception {
        GoldenCase c = GoldenCase.load(TestSupport.goldenDir().resolve("proj_bilstm_l2_b4_t10_i8_h16_p6_hx.safetensors"));
        StateDict w = StateDict.load(CheckpointTest.checkpointDir().resolve("proj_bilstm_l2_b4_t10_i8_h16_p6_hx.tagger.pt"))
                .withPrefix("encoder.");
        LstmConfig config = LstmConfig.inferFrom(w).batchFirst(c.lstmConfig().batchFirst()).build();
        try (Lstm lstm = Lstm.create(config, w, Backend.JAVA, Device.cpu())) {
            LstmOutput out = lstm.forward(c.tensor("input"), c.tensor("h0"), c.tensor("c0"));
            assertTrue(out.output().maxAbsDiff(c.tensor("output")) <= c.tolerance());
        }
    }

    /**
     * Without a backend, models fall back to JAVA and say why once (JavaCPP is missing); run in a child JVM
     * with this class path, so the once-per-process log line is this test's alone.
     */
    @Test
    void createWithoutBackendFallsBackToJava() throws Exception {
        DefaultBackendTest.assertFallback(DefaultBackendTest.probe(List.of()), "org/bytedeco/javacpp/");
    }

    @Test
    void nativeBackendsFailWithAMessage() throws Exception {
        GoldenCase c = GoldenCase.load(TestSupport.goldenDir().resolve("tiny_l1_b1_t1_i1_h1_hx.safetensors"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.run(Backend.NATIVE, Device.cpu()));
        assertTrue(e.getMessage().contains("NATIVE"), e.getMessage());
        IllegalStateException e2 = assertThrows(IllegalStateException.class,
                () -> c.run(Backend.LIBTORCH, Device.cpu()));
        assertTrue(e2.getMessage().contains("LIBTORCH"), e2.getMessage());
        assertEquals(Backend.JAVA, Backend.parse("java"));
    }
}
