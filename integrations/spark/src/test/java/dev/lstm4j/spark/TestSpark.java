package dev.lstm4j.spark;

import dev.lstm4j.Tensor;
import dev.lstm4j.io.Safetensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** The one SparkSession of the test JVM (a session costs seconds to start) and shared helpers. */
final class TestSpark {
    private static SparkSession session;

    private TestSpark() {
    }

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[2]")
                    .appName("lstm4j-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.sql.adaptive.enabled", "false")
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }

    /** A golden case from the test resources: weights, inputs and PyTorch's expected outputs. */
    static Safetensors.Contents golden(String name) {
        try {
            Path p = Path.of("src/test/resources/golden", name + ".safetensors");
            return Safetensors.read(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the weight tensors of {@code tensors} (names weight_* / bias_*) to a safetensors file. */
    static Path writeWeights(Path dir, String name, Map<String, Tensor> tensors) throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith("weight_") || k.startsWith("bias_")) {
                weights.put(k, v);
            }
        });
        Files.createDirectories(dir);
        Path file = dir.resolve(name + ".safetensors");
        Safetensors.write(file, weights, Map.of());
        return file;
    }

    /** Row b of a batch_first (B, T, F) float tensor as steps x features, its first {@code steps} steps. */
    static float[][] rowOf(Tensor t, int b, int steps) {
        int tt = t.size(1);
        int f = t.size(2);
        float[][] r = new float[steps][f];
        for (int s = 0; s < steps; s++) {
            System.arraycopy(t.floatData(), (b * tt + s) * f, r[s], 0, f);
        }
        return r;
    }

    /** Column b of a (S, B, W) state tensor as S x W rows (float32). */
    static float[][] stateOf(Tensor t, int b) {
        int s = t.size(0);
        int bs = t.size(1);
        int w = t.size(2);
        float[][] r = new float[s][w];
        for (int i = 0; i < s; i++) {
            for (int j = 0; j < w; j++) {
                r[i][j] = (float) t.getDouble((i * bs + b) * w + j);
            }
        }
        return r;
    }

    /** A collected array<array<float>> value as float[][] (null stays null). */
    static float[][] floats(Object v) {
        if (v == null) {
            return null;
        }
        scala.collection.Seq<?> outer = (scala.collection.Seq<?>) v;
        float[][] r = new float[outer.length()][];
        for (int i = 0; i < r.length; i++) {
            scala.collection.Seq<?> inner = (scala.collection.Seq<?>) outer.apply(i);
            r[i] = new float[inner.length()];
            for (int j = 0; j < r[i].length; j++) {
                r[i][j] = (Float) inner.apply(j);
            }
        }
        return r;
    }

    /** The float32 values of a (T, W) slice as float[][] (from a flat row-major array). */
    static float[][] rows(float[] data, int offset, int rows, int width) {
        float[][] r = new float[rows][width];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(data, offset + i * width, r[i], 0, width);
        }
        return r;
    }

    /** Rows sorted by their integer column {@code id}. */
    static List<Row> byId(List<Row> rows) {
        List<Row> sorted = new ArrayList<>(rows);
        sorted.sort((a, b) -> Integer.compare(a.getInt(a.fieldIndex("id")), b.getInt(b.fieldIndex("id"))));
        return sorted;
    }

    /** Asserts two float[][] are the same bits, naming the first difference. */
    static void assertSameBits(float[][] expected, float[][] actual, String what) {
        if (expected == null || actual == null) {
            org.junit.jupiter.api.Assertions.assertSame(expected, actual, what);
            return;
        }
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what + ": rows");
        for (int i = 0; i < expected.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(expected[i].length, actual[i].length, what + ": width of row " + i);
            for (int j = 0; j < expected[i].length; j++) {
                if (Float.floatToIntBits(expected[i][j]) != Float.floatToIntBits(actual[i][j])) {
                    org.junit.jupiter.api.Assertions.fail(what + ": [" + i + "][" + j + "] expected " + expected[i][j]
                            + " got " + actual[i][j]);
                }
            }
        }
    }

    /** The largest |expected - actual| over a (rows x width) block of a float64 tensor. */
    static double maxAbsDiff(Tensor expected, int offset, float[][] actual) {
        double worst = 0;
        int w = actual.length == 0 ? 0 : actual[0].length;
        for (int i = 0; i < actual.length; i++) {
            for (int j = 0; j < w; j++) {
                worst = Math.max(worst, Math.abs(expected.getDouble(offset + i * w + j) - actual[i][j]));
            }
        }
        return worst;
    }
}
