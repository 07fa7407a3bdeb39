package dev.lstm4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded bundle (after {@code package}): what it holds, and that a fresh JVM with nothing but the
 * bundle on its class path loads the native backends from it (JavaCPP extracting into a private cache).
 */
class BundleIT {
    private static final Path BUNDLE = Path.of("target", "lstm4j-spark-" + System.getProperty("project.version",
            "0.1.0-SNAPSHOT") + "-bundle.jar");

    @TempDir
    Path cache;

    @Test
    void holdsLstm4jAndItsNativesButNoSparkAndNothingRelocated() throws IOException {
        assertTrue(Files.isRegularFile(BUNDLE), "bundle missing: " + BUNDLE.toAbsolutePath());
        try (JarFile jar = new JarFile(BUNDLE.toFile())) {
            Set<String> names = jar.stream().map(ZipEntry::getName).collect(Collectors.toSet());
            for (String required : List.of("dev/lstm4j/Lstm.class", "dev/lstm4j/spark/LstmTransformer.class",
                    "dev/lstm4j/nativ/binding/linux-x86_64/libjnilstm4j.so", "org/bytedeco/javacpp/Loader.class",
                    "org/bytedeco/pytorch/linux-x86_64/libtorch_cpu.so", "org/bytedeco/pytorch/linux-x86_64/libjnitorch.so",
                    "org/bytedeco/openblas/linux-x86_64/libopenblas.so.0",
                    "META-INF/native-image/linux-x86_64/jnijavacpp/jni-config.json")) {
                assertTrue(names.contains(required), "bundle lacks " + required);
            }
            List<String> unwanted = names.stream().filter(n -> n.startsWith("org/apache/spark/")
                    || n.startsWith("scala/") || n.startsWith("org/apache/hadoop/") || n.endsWith("module-info.class")
                    || n.matches(".*/(shaded|relocated)/.*")).limit(5).collect(Collectors.toList());
            assertEquals(List.of(), unwanted, "bundle holds what the cluster provides or relocated classes");
            assertEquals("true", jar.getManifest().getMainAttributes().getValue("Multi-Release"));
        }
    }

    @Test
    void aFreshJvmLoadsTheNativeBackendsFromTheBundleAlone() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--add-modules=jdk.incubator.vector",
                "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-jar", BUNDLE.toString())
                .redirectErrorStream(true).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(done, "BundleCheck still running after 120 s:\n" + out);
        System.out.print(out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("NATIVE: loaded") && out.contains("LIBTORCH: loaded") && out.contains("bundle OK"), out);
        try (Stream<Path> files = Files.walk(cache)) {
            Set<String> extracted = files.map(f -> f.getFileName().toString()).collect(Collectors.toSet());
            assertTrue(extracted.contains("libjnilstm4j.so"), "not extracted into the cachedir: " + extracted);
            assertTrue(extracted.contains("libtorch_cpu.so"), "not extracted into the cachedir: " + extracted);
        }
        assertFalse(out.contains("FAIL"), out);
    }
}
