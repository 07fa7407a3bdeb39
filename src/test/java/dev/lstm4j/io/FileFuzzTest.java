package dev.lstm4j.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lstm4j.StateDict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the two model-file readers: whatever the bytes, {@link StateDict#load}
 * returns tensors or throws {@link InvalidFileException} (an {@link IOException}); any other exception,
 * a crash, an out-of-memory from an untrusted size or a hang is a finding. Plain test runs replay
 * the corpus in {@code src/test/resources/dev/lstm4j/io/FileFuzzTestInputs}; the Maven execution
 * {@code fuzz} (environment JAZZER_FUZZ=1) fuzzes for {@code fuzz.duration}.
 */
class FileFuzzTest {
    @FuzzTest(maxDuration = "${jazzer.max_duration:30s}")
    void safetensorsOrCheckpoint(byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzz", bytes.length > 3 && bytes[0] == 'P' ? ".pt" : ".safetensors");
        try {
            Files.write(file, bytes);
            try {
                StateDict.load(file);
            } catch (InvalidFileException expected) {
                // the reader said what is wrong
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
