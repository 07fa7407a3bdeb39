package dev.lstm4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** What a project depending on dev.lstm4j:lstm4j gets: the library, and none of lstm4j's tools. */
class LibraryOnlyTest {
    private static final List<String> TOOL_ENTRIES = List.of("dev/lstm4j/tools/", "dev/lstm4j/cli/",
            "dev/lstm4j/bench/", "dev/lstm4j/golden/", "picocli/");

    @Test
    void theLibraryJarHoldsNoTools() throws Exception {
        Path jar = Path.of(Lstm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isRegularFile(jar) && jar.getFileName().toString().startsWith("lstm4j-"),
                "the library comes from its jar in the local repository: " + jar);
        try (JarFile j = new JarFile(jar.toFile())) {
            List<String> names = j.stream().map(e -> e.getName()).collect(Collectors.toList());
            assertTrue(names.contains("dev/lstm4j/Lstm.class"), "not the library jar: " + jar);
            List<String> tools = names.stream().filter(n -> TOOL_ENTRIES.stream().anyMatch(n::startsWith)
                    || n.endsWith(".safetensors")).collect(Collectors.toList());
            assertEquals(List.of(), tools, "tool classes or resources in " + jar);
            assertNull(j.getManifest() == null ? null : j.getManifest().getMainAttributes().getValue("Main-Class"),
                    "the library jar names a main class");
        }
    }

    @Test
    void theClassPathHoldsNoToolsAndNoPicocli() {
        List<String> cp = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        assertTrue(cp.stream().anyMatch(e -> e.contains("lstm4j-0.1.0")), cp.toString());
        assertEquals(List.of(), cp.stream().filter(e -> e.contains("picocli") || e.contains("lstm4j-tools")
                || e.contains("jmh")).collect(Collectors.toList()));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("picocli.CommandLine"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("dev.lstm4j.tools.cli.Main"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("dev.lstm4j.cli.Main"));
        assertNull(Lstm.class.getResource("/dev/lstm4j/tools/demo/demo_lstm.safetensors"));
        assertNull(Lstm.class.getResource("/dev/lstm4j/demo/demo_lstm.safetensors"));
    }

    /** One step of a one-unit LSTM from zero state, against its closed form. */
    @Test
    void theLibraryRuns() {
        LstmConfig config = LstmConfig.builder(1, 1).build();
        Tensor wih = Tensor.of(new float[] {0.5f, -0.25f, 0.75f, 1.0f}, 4, 1);
        Tensor zeros41 = Tensor.zeros(DType.FLOAT32, 4, 1);
        Tensor zeros4 = Tensor.zeros(DType.FLOAT32, 4);
        StateDict w = StateDict.of(Map.of("weight_ih_l0", wih, "weight_hh_l0", zeros41, "bias_ih_l0", zeros4,
                "bias_hh_l0", zeros4));
        double x = 0.8;
        double i = sigmoid(0.5 * x);
        double g = Math.tanh(0.75 * x);
        double o = sigmoid(1.0 * x);
        double c = i * g; // f * c0 = 0
        double h = o * Math.tanh(c);
        try (Lstm lstm = Lstm.create(config, w, Backend.JAVA, Device.cpu())) {
            LstmOutput out = lstm.forward(Tensor.of(new float[] {(float) x}, 1, 1, 1));
            assertEquals(h, out.output().getDouble(0), 1e-6);
            assertEquals(c, out.cN().getDouble(0), 1e-6);
        }
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }
}
