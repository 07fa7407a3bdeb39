package dev.lstm4j.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * One bench row as {@code lstm4j bench --peers} writes it for its peers: {@code DIR/NAME.properties}
 * with the sizes ({@code input_size}, {@code hidden_size}, {@code num_layers}, {@code bidirectional},
 * {@code proj_size}, {@code batch}, {@code seq_len}), beside which lie the raw little-endian float32
 * files {@code DIR/NAME.input} and {@code DIR/NAME.<state_dict name>}.
 *
 * <p>Optional keys, absent from the bench's files today: {@code batch_first} (default {@code true},
 * the bench's layout) and {@code threads} (ONNX Runtime's intra-op threads; default the environment
 * variable {@code LSTM4J_PEER_THREADS}, else the number of available processors). {@code bias} is
 * whether {@code NAME.bias_ih_l0} exists, as a state_dict without biases has no such entry.
 */
record PeerRow(String name, int inputSize, int hiddenSize, int numLayers, boolean bidirectional, int projSize,
        int batch, int seqLen, boolean batchFirst, boolean bias, int threads) {

    /** Reads {@code dir/name.properties}. */
    static PeerRow read(Path dir, String name) throws IOException {
        Path file = dir.resolve(name + ".properties");
        Properties p = new Properties();
        try (var in = Files.newInputStream(file)) {
            p.load(in);
        }
        String env = System.getenv("LSTM4J_PEER_THREADS");
        int defaultThreads = env != null && !env.isBlank()
                ? positive(file, "LSTM4J_PEER_THREADS", env.trim())
                : Runtime.getRuntime().availableProcessors();
        return new PeerRow(name,
                positive(file, p, "input_size"),
                positive(file, p, "hidden_size"),
                positive(file, p, "num_layers"),
                bool(file, p, "bidirectional", null),
                nonNegative(file, p, "proj_size"),
                positive(file, p, "batch"),
                positive(file, p, "seq_len"),
                bool(file, p, "batch_first", Boolean.TRUE),
                Files.exists(dir.resolve(name + ".bias_ih_l0")),
                p.containsKey("threads") ? positive(file, p, "threads") : defaultThreads);
    }

    private static int positive(Path file, Properties p, String key) {
        return positive(file, key, required(file, p, key));
    }

    private static int positive(Path file, String key, String value) {
        int v = integer(file, key, value);
        if (v <= 0) {
            throw new IllegalArgumentException(file + ": " + key + " must be positive, got " + v);
        }
        return v;
    }

    private static int nonNegative(Path file, Properties p, String key) {
        int v = integer(file, key, required(file, p, key));
        if (v < 0) {
            throw new IllegalArgumentException(file + ": " + key + " must be non-negative, got " + v);
        }
        return v;
    }

    private static int integer(Path file, String key, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": " + key + " must be an integer, got '" + value + "'");
        }
    }

    private static boolean bool(Path file, Properties p, String key, Boolean byDefault) {
        String v = byDefault == null ? required(file, p, key) : p.getProperty(key, byDefault.toString());
        switch (v.trim()) {
            case "true":
                return true;
            case "false":
                return false;
            default:
                throw new IllegalArgumentException(file + ": " + key + " must be true or false, got '" + v + "'");
        }
    }

    private static String required(Path file, Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IllegalArgumentException(file + ": missing " + key);
        }
        return v;
    }
}
