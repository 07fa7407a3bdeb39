package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "existing LibTorch" mode: with {@code -Dlstm4j.libtorch.dir} the NATIVE backend runs on the
 * LibTorch in that folder, in a JVM whose class path holds none of the presets' native jars and whose
 * JavaCPP cache stays empty. Here the folder is the unpacked presets' LibTorch that Maven prepared
 * (target/natives); on a GPU machine the same mode runs on a pip torch's torch/lib.
 */
class ExistingLibTorchModeTest {
    @TempDir
    Path tmp;

    @Test
    void nativeRunsOnTheNamedLibTorchWithoutThePresetsNatives() throws Exception {
        Path torchDir = Path.of("target/natives/org/bytedeco/pytorch/linux-x86_64").toAbsolutePath();
        Path openblasDir = Path.of("target/natives/org/bytedeco/openblas/linux-x86_64").toAbsolutePath();
        assertTrue(Files.isRegularFile(torchDir.resolve("libtorch_cpu.so")), "Maven unpacks LibTorch to " + torchDir);
        // Our classes, the test classes, javacpp.jar and the presets' Java classes; no *-linux-x86_64.jar.
        String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.endsWith(".jar") || (e.contains("javacpp") || e.contains("pytorch")
                        || e.contains("junit") || e.contains("opentest4j")) && !e.contains("linux-x86_64"))
                .collect(Collectors.joining(File.pathSeparator));
        Path cache = tmp.resolve("javacpp-cache");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-Dlstm4j.libtorch.dir=" + torchDir, "-cp", cp,
                ExistingLibTorchProbe.class.getName()));
        for (String name : new String[] {"proj_bilstm_l2_b4_t10_i8_h16_p6_hx", "lstm_l2_b8_t32_i64_h128",
                "f64_proj_bilstm_l2_b3_t12_i7_h11_p5_hx"}) {
            cmd.add(TestSupport.goldenDir().resolve(name + ".safetensors").toString());
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // The presets' libtorch_cpu needs libopenblas.so.0 from another folder; a pip torch needs nothing.
        pb.environment().put("LD_LIBRARY_PATH", openblasDir.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(3, out.lines().filter(l -> l.startsWith("case ") && l.endsWith(" PASS")).count(), out);
        List<String> maps = out.lines().filter(l -> l.startsWith("maps ")).collect(Collectors.toList());
        assertEquals(List.of("maps " + torchDir.resolve("libtorch_cpu.so")), maps, out);
        assertFalse(Files.exists(cache), "the presets' natives were extracted to the JavaCPP cache: " + out);
    }
}
