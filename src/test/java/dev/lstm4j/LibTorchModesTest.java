package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 7: the existing-LibTorch mode ({@code -Dlstm4j.libtorch.dir}) and the presets'
 * LibTorch exclude each other in one JVM, with a message, never a crash. Before: a failed load still
 * turned JavaCPP's loading off for the process (LIBTORCH then claimed to be available and failed with
 * UnsatisfiedLinkError), LIBTORCH after a successful one did the same, and NATIVE on a second
 * LibTorch after LIBTORCH aborted the JVM (SIGABRT). Each case runs in its own JVM.
 */
class LibTorchModesTest {
    private static final Path TORCH_DIR = Path.of("target/natives/org/bytedeco/pytorch/linux-x86_64").toAbsolutePath();
    private static final Path OPENBLAS_DIR = Path.of("target/natives/org/bytedeco/openblas/linux-x86_64")
            .toAbsolutePath();

    @TempDir
    Path tmp;

    private List<String> run(String steps, String... jvmArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of(jvmArgs));
        args.add("-Dorg.bytedeco.javacpp.cachedir=" + tmp.resolve("cache"));
        List<String> cmd = ForkedJvm.command(args, LibTorchModesProbe.class, steps);
        // The presets' libtorch_cpu in target/natives needs libopenblas.so.0 from its own folder.
        String env = "LD_LIBRARY_PATH=" + OPENBLAS_DIR;
        List<String> withEnv = new ArrayList<>(List.of("env", env));
        withEnv.addAll(cmd);
        ForkedJvm.Result r = ForkedJvm.run(withEnv, tmp.toFile(), 300);
        try (Stream<Path> files = Files.list(tmp)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("hs_err")), "the JVM crashed: " + r.out());
        }
        assertEquals(0, r.code(), r.out());
        return r.out().lines().filter(l -> !l.startsWith("WARNING")).toList();
    }

    @Test
    void failedExistingModeLeavesThePresetsUsable() throws Exception {
        assertTrue(Files.isRegularFile(TORCH_DIR.resolve("libtorch_cpu.so")), "Maven unpacks LibTorch to " + TORCH_DIR);
        List<String> out = run("NATIVE,LIBTORCH", "-Dlstm4j.libtorch.dir=" + tmp.resolve("nosuch"));
        assertEquals("NATIVE refused: backend NATIVE is not available: cannot load lstm4j's native library: "
                + "java.lang.UnsatisfiedLinkError: lstm4j.libtorch.dir=" + tmp.resolve("nosuch") + ": no such folder",
                out.get(0), String.join("\n", out));
        assertTrue(out.get(1).startsWith("LIBTORCH ok "), String.join("\n", out));
        assertEquals("loadlibraries null", out.get(2), String.join("\n", out));
    }

    @Test
    void libTorchIsRefusedAfterTheExistingMode() throws Exception {
        List<String> out = run("NATIVE,LIBTORCH,NATIVE", "-Dlstm4j.libtorch.dir=" + TORCH_DIR);
        assertTrue(out.get(0).startsWith("NATIVE ok "), String.join("\n", out));
        assertTrue(Double.parseDouble(out.get(0).substring("NATIVE ok ".length())) < 1e-5, out.get(0));
        assertEquals("LIBTORCH refused: backend LIBTORCH is not available: cannot load LibTorch from the JavaCPP "
                + "presets: java.lang.UnsatisfiedLinkError: the NATIVE backend runs on the LibTorch in " + TORCH_DIR
                + " (lstm4j.libtorch.dir) in this JVM, and the presets' LibTorch cannot be loaded next to it; run "
                + "LIBTORCH in a JVM without that setting", out.get(1), String.join("\n", out));
        assertTrue(out.get(2).startsWith("NATIVE ok "), String.join("\n", out));
        assertEquals("loadlibraries false", out.get(3), String.join("\n", out));
    }

    @Test
    void existingModeIsRefusedAfterThePresetsLibTorch() throws Exception {
        // LIBTORCH loads the presets' LibTorch (extracted to the JavaCPP cache); the folder then names
        // another copy of it (target/natives): loading both would abort the JVM.
        List<String> out = run("LIBTORCH,dir=" + TORCH_DIR + ",NATIVE,LIBTORCH");
        assertTrue(out.get(0).startsWith("LIBTORCH ok "), String.join("\n", out));
        assertTrue(out.get(1).startsWith("NATIVE refused: backend NATIVE is not available: cannot load lstm4j's native "
                + "library: java.lang.UnsatisfiedLinkError: lstm4j.libtorch.dir=" + TORCH_DIR + ": another LibTorch is "
                + "already loaded in this JVM (" + tmp.resolve("cache")), String.join("\n", out));
        assertTrue(out.get(2).startsWith("LIBTORCH ok "), String.join("\n", out));
        assertEquals("loadlibraries null", out.get(3), String.join("\n", out));
        assertTrue(Double.parseDouble(out.get(0).substring("LIBTORCH ok ".length())) < 1e-5, out.get(0));
    }
}
