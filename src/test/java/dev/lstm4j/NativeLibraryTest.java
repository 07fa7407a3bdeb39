package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.nativ.NativeEngineProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The native library must load on CPU: a load failure fails the build, it is never skipped. */
class NativeLibraryTest {
    @Test
    void nativeBackendLoads() {
        NativeEngineProvider p = new NativeEngineProvider();
        assertTrue(p.isAvailable(), "NATIVE backend failed to load: " + p.unavailableReason());
    }

    @Test
    void ourLibraryIsLoadedWithThePresetsLibTorch() throws IOException {
        new NativeEngineProvider();
        String maps = Files.readString(Path.of("/proc/self/maps"));
        assertTrue(maps.contains("libjnilstm4j.so"), "libjnilstm4j.so is not mapped");
        long torchCopies = maps.lines().filter(l -> l.endsWith("/libtorch_cpu.so")).map(l -> l.substring(l.indexOf('/')))
                .distinct().count();
        assertTrue(torchCopies == 1, "expected exactly one libtorch_cpu.so mapped, got " + torchCopies);
    }
}
