package dev.lstm4j.spark;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Seeded Gaussian weights for every parameter of a config: the checks' and the bench's model. */
final class RandomWeights {
    private RandomWeights() {
    }

    /** Each parameter in {@code config.parameterShapes()} order, elements drawn from N(0, scale²). */
    static Map<String, Tensor> gaussian(LstmConfig config, Random rnd, double scale) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        config.parameterShapes().forEach((name, shape) -> {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (rnd.nextGaussian() * scale);
            }
            w.put(name, Tensor.of(v, shape));
        });
        return w;
    }
}
