package dev.lstm4j;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Shared helpers of the tests: golden case files and seeded random weights. */
public final class TestSupport {
    private TestSupport() {
    }

    /** The golden case folder among the test resources. */
    public static Path goldenDir() {
        try {
            return Path.of(TestSupport.class.getResource("/golden").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every golden case file (every {@code *.safetensors} of the folder, packed ones included), sorted. */
    public static List<Path> goldenFiles() throws IOException {
        try (Stream<Path> s = Files.list(goldenDir())) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().collect(Collectors.toList());
        }
    }

    /** Uniform(-k, k) weights with k = 1/sqrt(hidden_size), as PyTorch initialises them. */
    public static StateDict randomWeights(java.util.Map<String, int[]> shapes, int hiddenSize, DType dtype, Random rnd) {
        java.util.Map<String, Tensor> m = new java.util.LinkedHashMap<>();
        double k = 1.0 / Math.sqrt(hiddenSize);
        shapes.forEach((name, shape) -> m.put(name, random(shape, dtype, rnd, k)));
        return StateDict.of(m);
    }

    /** A tensor of Uniform(-scale, scale) values. */
    public static Tensor random(int[] shape, DType dtype, Random rnd, double scale) {
        Tensor t = Tensor.zeros(dtype, shape);
        for (int i = 0; i < t.numel(); i++) {
            double v = (rnd.nextDouble() * 2 - 1) * scale;
            if (dtype == DType.FLOAT32) {
                t.floatData()[i] = (float) v;
            } else {
                t.doubleData()[i] = v;
            }
        }
        return t;
    }
}
