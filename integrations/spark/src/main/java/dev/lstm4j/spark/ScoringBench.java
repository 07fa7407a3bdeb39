package dev.lstm4j.spark;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.ModelOptions;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Rows per second of {@link LstmTransformer} against partitions and threads per task, next to the same
 * rows scored by one {@code Lstm} in this JVM without Spark with the same threads (the single-JVM
 * library rate), and the efficiency per core. Synthetic float32 rows in a nullable
 * {@code array<array<float>>} column (what Parquet and {@code createDataFrame} give), cached in memory
 * first; seeded random weights. Each (partitions, threads) cell is run once to warm up and then timed
 * {@code --repeats} times (median), writing to Spark's {@code noop} sink so nothing but scoring is timed.
 *
 * <pre>
 * spark-submit --master 'local[2]' --driver-memory 4g --class dev.lstm4j.spark.ScoringBench \
 *     lstm4j-spark-VERSION-bundle.jar --rows 20000 --steps 50 --input 32 --hidden 128 --partitions 1,2 --threads 1,2
 * </pre>
 *
 * Options (defaults): --rows 20000, --steps 50, --input 32, --hidden 128, --layers 1, --batch 64,
 * --partitions 1,2, --threads 1,2, --backend native, --repeats 3. Prints a Markdown table, one line per
 * (threads, partitions): cores used (concurrent tasks x threads), Spark's rows/s, the single-JVM rows/s
 * with the same threads, and the efficiency per core: (Spark rows/s / cores used) / (single-JVM rows/s /
 * threads); 1.0 means Spark adds nothing per core over calling the library directly.
 */
public final class ScoringBench {
    private ScoringBench() {
    }

    /** Runs the bench; see the class comment for the options. */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        String[][] defaults = {{"rows", "20000"}, {"steps", "50"}, {"input", "32"}, {"hidden", "128"}, {"layers", "1"},
            {"batch", "64"}, {"partitions", "1,2"}, {"threads", "1,2"}, {"backend", "native"}, {"repeats", "3"}};
        for (String[] d : defaults) {
            o.put(d[0], d[1]);
        }
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
        int[] partitionCounts = ints(o.get("partitions"));
        int[] threadCounts = ints(o.get("threads"));
        String backend = o.get("backend");
        LstmConfig config = LstmConfig.builder(input, Integer.parseInt(o.get("hidden")))
                .numLayers(Integer.parseInt(o.get("layers"))).batchFirst(true).build();

        Random rnd = new Random(42);
        Map<String, Tensor> w = RandomWeights.gaussian(config, rnd, 0.1);
        Path weights = Files.createTempFile("lstm4j-bench-", ".safetensors");
        weights.toFile().deleteOnExit();
        Safetensors.write(weights, w, Map.of());

        float[][][] raw = new float[rows][][];
        for (int r = 0; r < rows; r++) {
            raw[r] = sequence(r, steps, input);
        }

        SparkSession.Builder builder = SparkSession.builder().appName("lstm4j-scoring-bench");
        if (!System.getProperties().containsKey("spark.master")) {
            builder.master("local[2]");
        }
        SparkSession spark = builder.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        int slots = spark.sparkContext().defaultParallelism(); // local[N]: N concurrent tasks
        StructType schema = new StructType().add("id", DataTypes.IntegerType)
                .add("steps", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)));
        // The rows are generated in the tasks (the same values as raw[]), not shipped from the driver.
        List<Integer> ids = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            ids.add(r);
        }
        JavaRDD<Row> generated = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(ids, slots)
                .map(r -> RowFactory.create(r, sequence(r, steps, input)));
        Dataset<Row> df = spark.createDataFrame(generated, schema);

        System.out.printf("# rows=%d steps=%d %s batch=%d backend=%s master=%s (task slots %d) machine cores=%d "
                + "OMP_NUM_THREADS=%s lstm4j.threads=%s%n", rows, steps, config, batch, backend,
                spark.sparkContext().master(), slots, Runtime.getRuntime().availableProcessors(),
                System.getenv("OMP_NUM_THREADS"), System.getProperty("lstm4j.threads"));
        System.out.println("| threads per task | partitions | cores used | Spark rows/s | single JVM rows/s (same threads) "
                + "| efficiency per core |");
        System.out.println("|---|---|---|---|---|---|");
        StateDict sd = StateDict.load(weights);
        for (int threads : threadCounts) {
            double single = singleJvm(config, sd, raw, batch, repeats, backend, threads);
            LstmTransformer lstm = new LstmTransformer().setWeightsPath("file://" + weights.toAbsolutePath())
                    .setInputCol("steps").setOutputCol("").setHnCol("h_n").setBackend(backend).setBatchSize(batch)
                    .setThreads(threads);
            for (int parts : partitionCounts) {
                Dataset<Row> in = df.repartition(parts).cache();
                in.count();
                lstm.transform(in).write().format("noop").mode("overwrite").save(); // warm-up: model load, JIT
                double[] times = new double[repeats];
                for (int i = 0; i < repeats; i++) {
                    long t0 = System.nanoTime();
                    lstm.transform(in).write().format("noop").mode("overwrite").save();
                    times[i] = (System.nanoTime() - t0) / 1e9;
                }
                in.unpersist(true);
                Arrays.sort(times);
                double rps = rows / times[repeats / 2];
                int cores = Math.min(parts, slots) * threads;
                double efficiency = (rps / cores) / (single / threads);
                System.out.printf("| %d | %d | %d | %.0f | %.0f | %.2f |%n", threads, parts, cores, rps, single, efficiency);
            }
        }
        spark.stop();
    }

    /** Row {@code r}'s input: steps x input standard normal values, the same wherever it is made. */
    private static float[][] sequence(int r, int steps, int input) {
        Random rnd = new Random(1_000_003L * r + 7);
        float[][] s = new float[steps][input];
        for (float[] step : s) {
            for (int j = 0; j < input; j++) {
                step[j] = (float) rnd.nextGaussian();
            }
        }
        return s;
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    /**
     * Rows/s of one Lstm with {@code threads} threads scoring the same rows in batches of {@code batch} in
     * this JVM, on the calling thread (the median of {@code repeats} rounds after one warm-up round, as Spark's).
     */
    private static double singleJvm(LstmConfig config, StateDict weights, float[][][] raw, int batch, int repeats,
            String backend, int threads) {
        Backend b = backend.equals("auto") ? Backend.NATIVE : Backend.parse(backend);
        int steps = raw[0].length;
        int input = raw[0][0].length;
        try (Lstm lstm = Lstm.create(config, weights, b, Device.cpu(), ModelOptions.builder().threads(threads).build())) {
            double[] times = new double[repeats];
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
                    times[rep - 1] = s;
                }
            }
            Arrays.sort(times);
            return raw.length / times[repeats / 2];
        }
    }
}
