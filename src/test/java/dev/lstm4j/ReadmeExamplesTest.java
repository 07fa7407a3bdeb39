package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.examples.ReadmeExamples;
import dev.lstm4j.tools.golden.GoldenCase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** README.md's Java examples are the compiled ones of {@link ReadmeExamples}, and they run. */
class ReadmeExamplesTest {
    private static final Path SOURCE = Path.of("src/test/java/dev/lstm4j/examples/ReadmeExamples.java");

    @Test
    void readmeHoldsEveryTaggedExample() throws Exception {
        String source = Files.readString(SOURCE);
        String readme = normalize(Files.readString(Path.of("README.md")));
        Matcher m = Pattern.compile("// tag::(\\w+)\\[\\]\\n(.*?)\\n\\s*// end::\\1\\[\\]", Pattern.DOTALL).matcher(source);
        List<String> tags = new ArrayList<>();
        while (m.find()) {
            tags.add(m.group(1));
            String block = normalize(m.group(2));
            assertTrue(readme.contains(block), "README.md lacks example '" + m.group(1) + "':\n" + block);
        }
        assertEquals(List.of("load", "cuda", "lengths", "stream"), tags);
    }

    /** Lines stripped of their common indentation, so that code nested in a method matches the README. */
    private static String normalize(String text) {
        List<String> lines = text.lines().collect(Collectors.toList());
        int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(Math.min(indent, l.length() - l.stripLeading().length()))
                .stripTrailing()).collect(Collectors.joining("\n"));
    }

    @Test
    void examplesRun() throws Exception {
        GoldenCase c = GoldenCase.load(TestSupport.goldenDir().resolve("proj_bilstm_l2_b4_t10_i8_h16_p6_hx.safetensors"));
        Path pt = CheckpointTest.checkpointDir().resolve("proj_bilstm_l2_b4_t10_i8_h16_p6_hx.tagger.pt");
        LstmOutput out = ReadmeExamples.loadCheckpoint(pt, c.tensor("input"));
        assertEquals(c.lstmConfig().toBuilder().build().realHiddenSize() * 2, out.output().size(-1));
        LstmOutput gpu = ReadmeExamples.onGpuIfAny(c.lstmConfig(), c.weights(), c.tensor("input"));
        assertTrue(gpu.output().maxAbsDiff(out.output()) < 1e-5);

        LstmConfig config = LstmConfig.builder(5, 8).batchFirst(true).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 8, DType.FLOAT32, new Random(9));
        try (Lstm lstm = Lstm.create(config, w, Backend.JAVA, Device.cpu())) {
            Tensor padded = TestSupport.random(new int[] {3, 10, 5}, DType.FLOAT32, new Random(10), 1.0);
            LstmOutput v = ReadmeExamples.variableLengths(lstm, padded);
            assertEquals(0.0, v.output().getDouble((1 * 10 + 4) * 8), "zero past the length");
            Tensor[] steps = new Tensor[6];
            for (int t = 0; t < steps.length; t++) {
                steps[t] = TestSupport.random(new int[] {1, 1, 5}, DType.FLOAT32, new Random(t), 1.0);
            }
            Tensor last = ReadmeExamples.stream(lstm, steps);
            assertEquals(8, last.numel());
        }
    }
}
