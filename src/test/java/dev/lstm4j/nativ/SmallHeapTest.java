package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 item 10: NATIVE's native memory must not depend on JavaCPP's physical-memory cap (by
 * default a multiple of -Xmx). Five H=1024 models at -Xmx100m failed with "OutOfMemoryError: Cannot
 * allocate new FloatPointer" while gigabytes were free; the model objects and staging buffers are
 * now allocated outside JavaCPP's accounting.
 */
class SmallHeapTest {
    @Test
    void fiveLargeModelsRunOnA100MegabyteHeap() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx100m",
                "-Dorg.bytedeco.javacpp.platform.extension=", "-cp", System.getProperty("java.class.path"),
                SmallHeapProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("OK 5 models"), out);
    }
}
