package dev.lstm4j.integrations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lstm4j.DType;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.ModelOptions;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The integrations' {@code threads} parameter reaches the model; 0 means the JVM's default. */
class ModelsTest {
    private static final LstmConfig CONFIG = LstmConfig.builder(2, 3).batchFirst(true).build();

    private static StateDict zeros() {
        Map<String, Tensor> w = new LinkedHashMap<>();
        CONFIG.parameterShapes().forEach((k, s) -> w.put(k, Tensor.zeros(DType.FLOAT32, s)));
        return StateDict.of(w);
    }

    @Test
    void threadsReachTheModelOnEveryBackendChoice() {
        for (String backend : new String[] {"java", "auto"}) {
            try (Lstm m = Models.create(CONFIG, zeros(), backend, "cpu", 3)) {
                assertEquals(3, m.threads(), backend);
            }
            try (Lstm m = Models.create(CONFIG, zeros(), backend, "cpu", 0)) {
                assertEquals(ModelOptions.defaultThreads(), m.threads(), backend + ", default");
            }
        }
        assertEquals(5, Models.threads(5));
        assertEquals(ModelOptions.defaultThreads(), Models.threads(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Models.create(CONFIG, zeros(), "java", "cpu", -1));
        assertEquals("threads: expected a positive count or 0 for the default, got -1", e.getMessage());
    }
}
