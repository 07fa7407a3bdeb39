package dev.lstm4j.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The shaded bundle for Flink's {@code lib/} (after {@code package}): lstm4j and its natives, no Flink,
 * nothing relocated. (That a JVM loads the natives from such a bundle is checked by lstm4j-spark's
 * BundleIT, whose bundle is built the same way.)
 */
class BundleIT {
    @Test
    void holdsLstm4jAndItsNativesButNoFlinkAndNothingRelocated() throws IOException {
        Path bundle = Path.of("target", "lstm4j-flink-" + System.getProperty("project.version", "0.1.0-SNAPSHOT")
                + "-bundle.jar");
        assertTrue(Files.isRegularFile(bundle), "bundle missing: " + bundle.toAbsolutePath());
        try (JarFile jar = new JarFile(bundle.toFile())) {
            Set<String> names = jar.stream().map(ZipEntry::getName).collect(Collectors.toSet());
            for (String required : List.of("dev/lstm4j/Lstm.class", "dev/lstm4j/flink/LstmKeyedFunction.class",
                    "dev/lstm4j/nativ/binding/linux-x86_64/libjnilstm4j.so", "org/bytedeco/javacpp/Loader.class",
                    "org/bytedeco/pytorch/linux-x86_64/libtorch_cpu.so", "org/bytedeco/openblas/linux-x86_64/libopenblas.so.0")) {
                assertTrue(names.contains(required), "bundle lacks " + required);
            }
            List<String> unwanted = names.stream().filter(n -> n.startsWith("org/apache/flink/")
                    || n.endsWith("module-info.class") || n.matches(".*/(shaded|relocated)/.*")).limit(5)
                    .collect(Collectors.toList());
            assertEquals(List.of(), unwanted, "bundle holds what Flink provides or relocated classes");
        }
    }
}
