package dev.lstm4j.spark;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Rows per second of {@link LstmTransformer} against the number of partitions, next to the same rows
 * scored by one {@code Lstm} in the driver's JVM on one thread (the single-JVM baseline). Synthetic
 * float32 data and seeded random weights; each partition count is run once to warm up and then timed
 * {@code --repeats} times (median), writing to Spark's {@code noop} sink so nothing but scoring is
 * timed.
 *
 * <pre>
 * spark-submit --master 'local[4]' --conf spark.driver.memory=4g --class dev.lstm4j.spark.ScoringBench \
 *     lstm4j-spark-VERSION-bundle.jar --rows 20000 --steps 50 --input 32 --hidden 128 --partitions 1,2,4
 * </pre>
 *
 * Options (defaults): --rows 20000, --steps 50, --input 32, --hidden 128, --layers 1, --batch 64,
 * --partitions 1,2,4, --backend auto, --repeats 3. Prints a Markdown table: partitions, rows/s,
 * speed-up over 1 partition, efficiency per partition (speed-up / partitions), and the baseline.
 * Set the threads each model uses through the environment (OMP_NUM_THREADS, spark.task.cpus) and
 * report them with the table: timings depend on them.
 */
public final class ScoringBench {
    private ScoringBench() {
    }

    /** Runs the bench; see the class comment for the options. */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>(Map.of("rows", "20000", "steps", "50", "input", "32",
                "hidden", "128", "layers", "1", "batch", "64", "partitions", "1,2,4", "backend", "auto", "repeats", "3"));
        for (int i = 0; i < args.length; i += 2) {
            String k = args[i].replaceFirst("^--", "");
            if (!o.containsKey(k) || i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown option or missing value: " + args[i] + "; options: " + o.keySet());
            }
            o.put(k, args[i + 1]);
        }
        int rows = Integer.parseInt(o.get("rows"));
        int steps = Integer.parseInt(o.get("steps"));
        int input = Integer.parseInt(o.get("input"));
        int repeats = Integer.parseInt(o.get("repeats"));
        int batch = Integer.parseInt(o.get("batch"));
        LstmConfig config = LstmConfig.builder(input, Integer.parseInt(o.get("hidden")))
                .numLayers(Integer.parseInt(o.get("layers"))).batchFirst(true).build();

        Random rnd = new Random(42);
        Map<String, Tensor> w = new LinkedHashMap<>();
        config.parameterShapes().forEach((name, shape) -> {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (rnd.nextGaussian() * 0.1);
            }
            w.put(name, Tensor.of(v, shape));
        });
        Path weights = Files.createTempFile("lstm4j-bench-", ".safetensors");
        weights.toFile().deleteOnExit();
        Safetensors.write(weights, w, Map.of());

        List<Row> data = new ArrayList<>(rows);
        float[][][] raw = new float[rows][steps][input];
        for (int r = 0; r < rows; r++) {
            for (float[] s : raw[r]) {
                for (int j = 0; j < input; j++) {
                    s[j] = (float) rnd.nextGaussian();
                }
            }
            data.add(RowFactory.create(r, raw[r]));
        }

        SparkSession.Builder builder = SparkSession.builder().appName("lstm4j-scoring-bench");
        if (!System.getProperties().containsKey("spark.master")) {
            builder.master("local[*]");
        }
        SparkSession spark = builder.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        StructType schema = new StructType().add("id", DataTypes.IntegerType)
                .add("steps", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)));
        Dataset<Row> df = spark.createDataFrame(data, schema);
        LstmTransformer lstm = new LstmTransformer().setWeightsPath("file://" + weights.toAbsolutePath())
                .setInputCol("steps").setOutputCol("").setHnCol("h_n").setBackend(o.get("backend")).setBatchSize(batch);

        System.out.printf("# rows=%d steps=%d %s batch=%d backend=%s OMP_NUM_THREADS=%s master=%s cores=%d%n", rows,
                steps, config, batch, o.get("backend"), System.getenv("OMP_NUM_THREADS"), spark.sparkContext().master(),
                Runtime.getRuntime().availableProcessors());
        double base = baseline(config, StateDict.load(weights), raw, batch, repeats, o.get("backend"));
        System.out.println("| partitions | rows/s | speed-up vs 1 | efficiency per partition |");
        System.out.println("|---|---|---|---|");
        System.out.printf("| single JVM, 1 thread, no Spark | %.0f | | |%n", base);
        double one = Double.NaN;
        for (String p : o.get("partitions").split(",")) {
            int parts = Integer.parseInt(p.trim());
            Dataset<Row> in = df.repartition(parts).cache();
            in.count();
            double[] times = new double[repeats];
            lstm.transform(in).write().format("noop").mode("overwrite").save(); // warm-up: loads, JIT
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                lstm.transform(in).write().format("noop").mode("overwrite").save();
                times[i] = (System.nanoTime() - t0) / 1e9;
            }
            java.util.Arrays.sort(times);
            double rps = rows / times[repeats / 2];
            if (Double.isNaN(one)) {
                one = rps * 1.0 / parts;
            }
            System.out.printf("| %d | %.0f | %.2f | %.2f |%n", parts, rps, rps / one, rps / one / parts);
            in.unpersist();
        }
        spark.stop();
    }

    /** Rows/s of one Lstm scoring the same rows in batches in this JVM, on the calling thread. */
    private static double baseline(LstmConfig config, StateDict weights, float[][][] raw, int batch, int repeats,
            String backend) {
        Backend b = backend.equals("auto") ? Backend.NATIVE : Backend.parse(backend);
        int steps = raw[0].length;
        int input = raw[0][0].length;
        try (Lstm lstm = Lstm.create(config, weights, b, Device.cpu())) {
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep <= repeats; rep++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < raw.length; r += batch) {
                    int n = Math.min(batch, raw.length - r);
                    float[] x = new float[n * steps * input];
                    for (int i = 0; i < n; i++) {
                        for (int t = 0; t < steps; t++) {
                            System.arraycopy(raw[r + i][t], 0, x, (i * steps + t) * input, input);
                        }
                    }
                    lstm.forward(Tensor.of(x, n, steps, input));
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (rep > 0) { // the first round warms up
                    best = Math.min(best, s);
                }
            }
            return raw.length / best;
        }
    }
}
