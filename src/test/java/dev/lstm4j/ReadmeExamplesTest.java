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
        assertEquals(List.of("load", "cuda", "threads", "lengths", "stream"), tags);
    }

    /** Lines stripped of their common indentation, so that code nested in a method matches the README. */
    private static String normalize(String text) {
        List<String> lines = text.lines().collect(Collectors.toList());
        int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(Math.min(indent, l.length() - l.stripLeading().length()))
                .stripTrailing()).collect(Collectors.joining("\n"));
    }

    private static double maxErr(LstmOutput o, GoldenCase c) {
        return Math.max(o.output().maxAbsDiff(c.tensor("output")),
                Math.max(o.hN().maxAbsDiff(c.tensor("h_n")), o.cN().maxAbsDiff(c.tensor("c_n"))));
    }

    @Test
    void examplesRun() throws Exception {
        // A case without initial state (the examples pass none), batch_first as the examples say: both
        // examples are compared with PyTorch's own float64 result in the case file.
        String name = "lstm_l2_b8_t32_i64_h128";
        GoldenCase c = GoldenCase.load(TestSupport.goldenDir().resolve(name + ".safetensors"));
        assertTrue(c.lstmConfig().batchFirst() && c.tensor("h0") == null, name + " fits the examples");
        Path pt = CheckpointTest.checkpointDir().resolve(name + ".tagger.pt");
        LstmOutput out = ReadmeExamples.loadCheckpoint(pt, c.tensor("input"));
        double cpuErr = maxErr(out, c);
        assertTrue(cpuErr <= c.tolerance(), "checkpoint example vs PyTorch: " + cpuErr);
        // The GPU example runs on cuda:0 where there is one and on the CPU otherwise; either way it must give
        // PyTorch's result, not merely agree with the line above.
        String device = Backend.NATIVE.cudaDeviceCount() > 0 ? "cuda:0" : "cpu";
        LstmOutput gpu = ReadmeExamples.onGpuIfAny(c.lstmConfig(), c.weights(), c.tensor("input"));
        double gpuErr = maxErr(gpu, c);
        assertTrue(gpuErr <= c.tolerance(), "GPU example on " + device + " vs PyTorch: " + gpuErr);
        LstmOutput two = ReadmeExamples.onTwoThreads(c.lstmConfig(), c.weights(), c.tensor("input"));
        double twoErr = maxErr(two, c);
        assertTrue(twoErr <= c.tolerance(), "threads example vs PyTorch: " + twoErr);

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
