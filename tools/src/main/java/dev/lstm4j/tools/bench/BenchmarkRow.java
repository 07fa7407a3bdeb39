package dev.lstm4j.tools.bench;

import dev.lstm4j.DType;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * One configuration of the benchmark grid shared by {@code lstm4j bench} and the JMH benchmark
 * ({@code src/jmh}): a float32, {@code batch_first} LSTM and the batch and sequence length it is
 * timed on. Weights and inputs are random but seeded, so every backend and every run sees the same data.
 *
 * @param name   the row's name, as given to {@code --rows} and JMH's {@code -p config=}
 * @param config the LSTM (float32, batch_first)
 * @param batch  batch size B
 * @param seqLen sequence length T
 */
public record BenchmarkRow(String name, LstmConfig config, int batch, int seqLen) {
    /** The seed {@link #weights(Random)} and {@link #input(Random)} are drawn from, in that order. */
    public static final long SEED = 42;

    private static final List<BenchmarkRow> ALL = List.of(
            row("stream_b1_t1_h256", 1, 1, LstmConfig.builder(256, 256)),
            row("b1_t128_h256", 1, 128, LstmConfig.builder(256, 256)),
            row("b64_t128_h256_l2", 64, 128, LstmConfig.builder(256, 256).numLayers(2)),
            row("b64_t128_h512_l2_bi", 64, 128, LstmConfig.builder(512, 512).numLayers(2).bidirectional(true)),
            row("b64_t128_i512_h1024_l2_p256", 64, 128, LstmConfig.builder(512, 1024).numLayers(2).projSize(256)));

    /** Checks the sizes. */
    public BenchmarkRow {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        if (batch <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("batch and seqLen: expected positive sizes, got " + batch + ", "
                    + seqLen);
        }
    }

    /**
     * Floating-point operations of one forward pass: the GEMMs (input projection, recurrent product and
     * projection, 2 flops per multiply-add), which are all but a few percent of the work.
     */
    public double flops() {
        double total = 0;
        int h = config.hiddenSize();
        int p = config.realHiddenSize();
        for (int l = 0; l < config.numLayers(); l++) {
            double perDirection = 2.0 * seqLen * batch * 4 * h * (config.layerInputSize(l) + p)
                    + (config.projSize() > 0 ? 2.0 * seqLen * batch * h * p : 0);
            total += config.numDirections() * perDirection;
        }
        return total;
    }

    private static BenchmarkRow row(String name, int batch, int seqLen, LstmConfig.Builder config) {
        return new BenchmarkRow(name, config.batchFirst(true).dtype(DType.FLOAT32).build(), batch, seqLen);
    }

    /** The grid, in the order it is run and printed. */
    public static List<BenchmarkRow> all() {
        return ALL;
    }

    /** The names of {@link #all()}, comma-separated. */
    public static String names() {
        return ALL.stream().map(BenchmarkRow::name).collect(Collectors.joining(", "));
    }

    /**
     * The row called {@code name}.
     *
     * @throws IllegalArgumentException if there is none (the message lists the names)
     */
    public static BenchmarkRow named(String name) {
        for (BenchmarkRow r : ALL) {
            if (r.name.equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown benchmark row '" + name + "', expected one of " + names());
    }

    /** Weights drawn from Uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch initialises them. */
    public StateDict weights(Random rnd) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        double k = 1.0 / Math.sqrt(config.hiddenSize());
        config.parameterShapes().forEach((n, shape) -> m.put(n, uniform(shape, k, rnd)));
        return StateDict.of(m);
    }

    /** An input (B, T, input_size) drawn from Uniform(-1, 1). */
    public Tensor input(Random rnd) {
        return uniform(new int[] {batch, seqLen, config.inputSize()}, 1.0, rnd);
    }

    private static Tensor uniform(int[] shape, double scale, Random rnd) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        float[] data = t.floatData();
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return t;
    }

    @Override
    public String toString() {
        return name + ": " + config + ", B=" + batch + ", T=" + seqLen;
    }
}
