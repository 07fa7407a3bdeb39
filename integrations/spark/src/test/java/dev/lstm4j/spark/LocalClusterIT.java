package dev.lstm4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.integrations.ModelCache;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transformer on {@code local-cluster[2,1,1024]}: two executor JVMs of their own, so the task, the
 * broadcast weights and the model cache really cross process boundaries. Runs in failsafe's JVM (one
 * SparkContext per JVM), with the executors on this JVM's class path (no Spark distribution needed:
 * {@code SPARK_TESTING=1}, see the pom).
 */
class LocalClusterIT {
    @TempDir
    Path tmp;

    @Test
    void separateExecutorJvmsGiveTheDriversBitsAndLoadTheModelOnceEach() throws Exception {
        Path weights = TestSpark.writeWeights(tmp, "cluster", TestSpark.golden("seqfirst_l2_b5_t7_i3_h9_hx").tensors());
        // Relative: each executor unpacks into its own work directory, as docs/integrations.md advises.
        String cachedir = "./javacpp-cache";
        // A crash report, if any, where the build keeps it (executor work directories are deleted at stop).
        String errorFile = Path.of("target", "executor-hs_err_%p.log").toAbsolutePath().toString();
        SparkSession spark = SparkSession.builder()
                .master("local-cluster[2,1,1024]")
                .appName("lstm4j-local-cluster")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executor.extraJavaOptions", System.getProperty("spark.jvm.args", "")
                        + " -Dorg.bytedeco.javacpp.cachedir=" + cachedir + " -XX:ErrorFile=" + errorFile)
                .getOrCreate();
        try {
            spark.sparkContext().setLogLevel("WARN");
            Random rnd = new Random(23);
            StructType schema = new StructType().add("id", DataTypes.IntegerType)
                    .add("steps", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)));
            List<Row> rows = new ArrayList<>();
            List<float[][]> data = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                float[][] s = new float[1 + rnd.nextInt(12)][3];
                for (float[] step : s) {
                    for (int j = 0; j < 3; j++) {
                        step[j] = (float) rnd.nextGaussian();
                    }
                }
                data.add(s);
                rows.add(RowFactory.create(i, s));
            }
            String dir = tmp.resolve("rows.parquet").toString();
            spark.createDataFrame(rows, schema).repartition(4).write().parquet(dir);
            Dataset<Row> df = spark.read().parquet(dir).repartition(4);
            LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                    .setBackend("native").setBatchSize(4);

            List<Row> scored = TestSpark.byId(t.transform(df).collectAsList());
            StateDict sd = StateDict.load(weights);
            try (Lstm lstm = Lstm.create(LstmConfig.inferFrom(sd).batchFirst(true).build(), sd, Backend.NATIVE, Device.cpu())) {
                for (int i = 0; i < 40; i++) {
                    float[][] s = data.get(i);
                    float[] x = new float[s.length * 3];
                    for (int k = 0; k < s.length; k++) {
                        System.arraycopy(s[k], 0, x, k * 3, 3);
                    }
                    LstmOutput ref = lstm.forward(Tensor.of(x, 1, s.length, 3));
                    TestSpark.assertSameBits(TestSpark.rows(ref.output().floatData(), 0, s.length, 9),
                            TestSpark.floats(scored.get(i).getAs("output")), "row " + i);
                }
            }

            // Two more jobs; after scoring in a task, that executor JVM reports how many models it built.
            Set<String> executors = new HashSet<>();
            for (int job = 0; job < 2; job++) {
                List<String> reports = t.transform(df).mapPartitions((MapPartitionsFunction<Row, String>) it -> {
                    int n = 0;
                    while (it.hasNext()) {
                        it.next();
                        n++;
                    }
                    return List.of(ManagementFactory.getRuntimeMXBean().getPid() + " loads=" + ModelCache.SHARED.loads()
                            + " rows=" + n).iterator();
                }, Encoders.STRING()).collectAsList();
                for (String r : reports) {
                    assertTrue(r.contains(" loads=1 "), "an executor built its model more than once: " + reports);
                    executors.add(r.substring(0, r.indexOf(' ')));
                }
            }
            String driverPid = Long.toString(ManagementFactory.getRuntimeMXBean().getPid());
            assertTrue(!executors.contains(driverPid), "tasks ran in the driver JVM: " + executors);
            assertEquals(0, ModelCache.SHARED.loads(), "the driver builds no model");
            System.out.println("executor JVMs that scored: " + executors);
        } finally {
            spark.stop();
        }
    }
}
