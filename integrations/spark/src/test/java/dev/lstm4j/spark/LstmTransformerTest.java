package dev.lstm4j.spark;

import static dev.lstm4j.spark.TestSpark.assertSameBits;
import static dev.lstm4j.spark.TestSpark.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.integrations.ModelCache;
import dev.lstm4j.integrations.WeightsPayload;
import dev.lstm4j.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transformer in {@code local[2]} on Parquet files the tests write: against PyTorch's own results
 * (golden cases, 5e-6), bit for bit against {@link Lstm#forward} in the driver, across partitionings,
 * chunked against whole sequences, saved and loaded, and on bad input.
 */
class LstmTransformerTest {
    private static final DataType SEQ = DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType));
    private static final double TOL = 5e-6;

    @TempDir
    Path tmp;

    private final SparkSession spark = TestSpark.session();

    /** Writes rows to Parquet and reads them back, so the transformer sees what a real table gives. */
    private Dataset<Row> parquet(String name, List<Row> rows, StructType schema, int partitions) {
        String dir = tmp.resolve(name + ".parquet").toString();
        spark.createDataFrame(rows, schema).repartition(partitions).write().parquet(dir);
        return spark.read().parquet(dir);
    }

    private static Lstm driverModel(StateDict sd) {
        return Lstm.create(LstmConfig.inferFrom(sd).batchFirst(true).build(), sd, Backend.NATIVE, Device.cpu());
    }

    @Test
    void packedGoldenCaseMatchesPyTorchAndTheDriverBitForBit() throws IOException {
        Safetensors.Contents g = TestSpark.golden("packed_bilstm_l2_b5_t12_i6_h10");
        Path weights = TestSpark.writeWeights(tmp, "packed", g.tensors());
        Tensor input = g.tensors().get("input");
        long[] lengths = g.int64Tensors().get("lengths");
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("steps", SEQ).add("len", DataTypes.IntegerType);
        List<Row> rows = new ArrayList<>();
        for (int b = 0; b < input.size(0); b++) {
            rows.add(RowFactory.create(b, TestSpark.rowOf(input, b, input.size(1)), (int) lengths[b]));
        }
        Dataset<Row> df = parquet("packed", rows, schema, 2);
        int[] lens = Arrays.stream(lengths).mapToInt(l -> (int) l).toArray();
        LstmOutput ref;
        try (Lstm lstm = driverModel(StateDict.load(weights))) {
            ref = lstm.forward(input, lens, null, null);
        }
        for (String backend : new String[] {"native", "java"}) {
            LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                    .setLengthsCol("len").setHnCol("h_n").setCnCol("c_n").setBackend(backend).setBatchSize(2);
            List<Row> out = TestSpark.byId(t.transform(df).collectAsList());
            double worst = 0;
            for (int b = 0; b < input.size(0); b++) {
                Row r = out.get(b);
                float[][] o = floats(r.getAs("output"));
                assertEquals(12, o.length, "output keeps the row's steps, zero past its length");
                worst = Math.max(worst, TestSpark.maxAbsDiff(g.tensors().get("output"), b * 12 * 20, o));
                float[][] hn = floats(r.getAs("h_n"));
                float[][] expectedHn = TestSpark.stateOf(g.tensors().get("h_n"), b);
                for (int s = 0; s < 4; s++) {
                    for (int j = 0; j < 10; j++) {
                        worst = Math.max(worst, Math.abs(expectedHn[s][j] - hn[s][j]));
                    }
                }
                if (backend.equals("native")) {
                    assertSameBits(TestSpark.rows(ref.output().floatData(), b * 12 * 20, 12, 20), o, "output row " + b);
                    assertSameBits(TestSpark.stateOf(ref.hN(), b), hn, "h_n row " + b);
                    assertSameBits(TestSpark.stateOf(ref.cN(), b), floats(r.getAs("c_n")), "c_n row " + b);
                }
            }
            System.out.printf("packed golden, %s: max_abs_err vs PyTorch %.3g%n", backend, worst);
            assertTrue(worst <= TOL, backend + ": max abs error vs PyTorch " + worst);
        }
    }

    @Test
    void ptCheckpointUnderPrefixWithInitialStateMatchesPyTorch() throws IOException {
        Safetensors.Contents g = TestSpark.golden("proj_bilstm_l2_b4_t10_i8_h16_p6_hx");
        Path pt = Path.of("src/test/resources/golden/proj_bilstm_l2_b4_t10_i8_h16_p6_hx.tagger.pt").toAbsolutePath();
        Tensor input = g.tensors().get("input");
        Tensor h0 = g.tensors().get("h0");
        Tensor c0 = g.tensors().get("c0");
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("steps", SEQ).add("h0", SEQ).add("c0", SEQ);
        List<Row> rows = new ArrayList<>();
        for (int b = 0; b < input.size(0); b++) {
            rows.add(RowFactory.create(b, TestSpark.rowOf(input, b, 10), TestSpark.stateOf(h0, b), TestSpark.stateOf(c0, b)));
        }
        Dataset<Row> df = parquet("pt", rows, schema, 1);
        LstmTransformer t = new LstmTransformer().setWeightsPath("file://" + pt).setPrefix("encoder.")
                .setInputCol("steps").setH0Col("h0").setC0Col("c0").setOutputCol("out").setHnCol("hn").setCnCol("cn")
                .setBackend("native");
        List<Row> out = TestSpark.byId(t.transform(df).collectAsList());
        LstmOutput ref;
        try (Lstm lstm = driverModel(StateDict.load(pt).withPrefix("encoder."))) {
            ref = lstm.forward(input, h0, c0);
        }
        double worst = 0;
        for (int b = 0; b < 4; b++) {
            float[][] o = floats(out.get(b).getAs("out"));
            worst = Math.max(worst, TestSpark.maxAbsDiff(g.tensors().get("output"), b * 10 * 12, o));
            assertSameBits(TestSpark.rows(ref.output().floatData(), b * 10 * 12, 10, 12), o, "output row " + b);
            assertSameBits(TestSpark.stateOf(ref.hN(), b), floats(out.get(b).getAs("hn")), "h_n row " + b);
            assertSameBits(TestSpark.stateOf(ref.cN(), b), floats(out.get(b).getAs("cn")), "c_n row " + b);
        }
        System.out.printf(".pt under prefix with (h0, c0): max_abs_err vs PyTorch %.3g%n", worst);
        assertTrue(worst <= TOL, "max abs error vs PyTorch " + worst);
    }

    /** Random float32 weights of a 2-layer bidirectional LSTM with projection, written to safetensors. */
    private Path randomWeights(String name, LstmConfig config, long seed) throws IOException {
        Random rnd = new Random(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        config.parameterShapes().forEach((k, shape) -> {
            float[] v = new float[Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rnd.nextGaussian() * 0.3);
            }
            w.put(k, Tensor.of(v, shape));
        });
        return TestSpark.writeWeights(tmp, name, w);
    }

    /** The schema of {@link #idAndSteps}: an id and a sequence of steps. */
    private static final StructType ID_STEPS = new StructType().add("id", DataTypes.IntegerType).add("steps", SEQ);

    /** Rows (id i, 1..maxSteps random steps of {@code features}) for i < count, drawn from rnd in row order. */
    private static List<Row> idAndSteps(Random rnd, int count, int maxSteps, int features) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            rows.add(RowFactory.create(i, randomSteps(rnd, 1 + rnd.nextInt(maxSteps), features)));
        }
        return rows;
    }

    private static float[][] randomSteps(Random rnd, int steps, int features) {
        float[][] s = new float[steps][features];
        for (float[] row : s) {
            for (int j = 0; j < features; j++) {
                row[j] = (float) rnd.nextGaussian();
            }
        }
        return s;
    }

    @Test
    void sameBitsForAnyPartitioningAndOneModelLoadPerJvm() throws IOException {
        LstmConfig config = LstmConfig.builder(5, 12).numLayers(2).bidirectional(true).projSize(4).batchFirst(true).build();
        Path weights = randomWeights("partitions", config, 7);
        Random rnd = new Random(11);
        StructType schema = ID_STEPS;
        List<Row> rows = new ArrayList<>();
        List<float[][]> data = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            float[][] steps = i % 37 == 5 ? null : randomSteps(rnd, i % 41 == 3 ? 0 : 1 + rnd.nextInt(15), 5);
            data.add(steps);
            rows.add(RowFactory.create(i, steps));
        }
        Dataset<Row> df = parquet("partitions", rows, schema, 3);
        int loadsBefore = ModelCache.SHARED.loads();
        LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                .setHnCol("h_n").setCnCol("c_n");   // backend auto: NATIVE here
        List<Row> one = TestSpark.byId(t.copy(new org.apache.spark.ml.param.ParamMap()).setBatchSize(64)
                .transform(df.repartition(1)).collectAsList());
        List<Row> four = TestSpark.byId(t.setBatchSize(7).transform(df.repartition(4)).collectAsList());
        assertEquals(1, ModelCache.SHARED.loads() - loadsBefore, "models built for two jobs of 1 and 4 partitions");
        assertEquals(150, one.size());
        assertEquals(150, four.size());
        int nulls = 0;
        try (Lstm lstm = driverModel(StateDict.load(weights))) {
            for (int i = 0; i < 150; i++) {
                float[][] steps = data.get(i);
                if (steps == null || steps.length == 0) {
                    nulls++;
                    for (String c : new String[] {"output", "h_n", "c_n"}) {
                        assertNull(one.get(i).getAs(c), c + " of null/empty row " + i);
                        assertNull(four.get(i).getAs(c), c + " of null/empty row " + i);
                    }
                    continue;
                }
                float[] flat = new float[steps.length * 5];
                for (int s = 0; s < steps.length; s++) {
                    System.arraycopy(steps[s], 0, flat, s * 5, 5);
                }
                LstmOutput ref = lstm.forward(Tensor.of(flat, 1, steps.length, 5));  // this row alone, unpacked
                float[][] expected = TestSpark.rows(ref.output().floatData(), 0, steps.length, 8);
                assertSameBits(expected, floats(one.get(i).getAs("output")), "1 partition, row " + i);
                assertSameBits(expected, floats(four.get(i).getAs("output")), "4 partitions, row " + i);
                assertSameBits(TestSpark.stateOf(ref.hN(), 0), floats(four.get(i).getAs("h_n")), "h_n row " + i);
                assertSameBits(TestSpark.stateOf(ref.cN(), 0), floats(one.get(i).getAs("c_n")), "c_n row " + i);
            }
        }
        assertTrue(nulls >= 6, "null and empty rows in the data: " + nulls);
    }

    @Test
    void threadsParamIsSavedReachesTheModelAndKeepsTheBits() throws IOException {
        LstmConfig config = LstmConfig.builder(6, 24).numLayers(2).batchFirst(true).build();
        Path weights = randomWeights("threads", config, 19);
        WeightsPayload payload = new WeightsPayload("weightsPath", weights.toString(), Files.readAllBytes(weights));
        Random rnd = new Random(23);
        StructType schema = ID_STEPS;
        List<Row> rows = idAndSteps(rnd, 90, 20, 6);
        Dataset<Row> df = parquet("threads", rows, schema, 2);
        for (String backend : new String[] {"native", "java"}) {
            List<List<Row>> results = new ArrayList<>();
            for (int threads : new int[] {1, 2}) {
                LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                        .setHnCol("h_n").setBackend(backend).setBatchSize(45).setThreads(threads);
                results.add(TestSpark.byId(t.transform(df).collectAsList()));
                // local[2]: the executor's model cache is this JVM's; the job built the model it holds.
                ScoringSpec spec = t.spec(schema, dev.lstm4j.DType.FLOAT32);
                try (ModelCache.Lease lease = ModelCache.SHARED.acquire(spec.cacheKey(payload), () -> {
                    throw new AssertionError("no model was built for " + spec.cacheKey(payload));
                })) {
                    assertEquals(threads, lease.model().threads(), backend + ": the model's thread count");
                    assertEquals(backend.toUpperCase(java.util.Locale.ROOT), lease.model().backend().name());
                }
            }
            for (int i = 0; i < 90; i++) {
                assertSameBits(floats(results.get(0).get(i).getAs("output")), floats(results.get(1).get(i).getAs("output")),
                        backend + ", output of row " + i + " with 1 and 2 threads");
                assertSameBits(floats(results.get(0).get(i).getAs("h_n")), floats(results.get(1).get(i).getAs("h_n")),
                        backend + ", h_n of row " + i + " with 1 and 2 threads");
            }
        }

        LstmTransformer two = new LstmTransformer().setWeightsPath(weights.toString()).setThreads(2);
        String dir = tmp.resolve("threads-saved").toString();
        two.write().save(dir);
        assertEquals(2, (Integer) LstmTransformer.load(dir).getOrDefault(two.threads()));
        LstmTransformer fresh = new LstmTransformer();
        assertEquals(0, (Integer) fresh.getOrDefault(fresh.threads()), "default: the executor's");
        assertThrows(IllegalArgumentException.class, () -> two.setThreads(-1));
    }

    @Test
    void scoreTableJobWritesWhatTheTransformerGivesAndNeverReplacesAFile() throws IOException {
        Path weights = TestSpark.writeWeights(tmp, "job", TestSpark.golden("seqfirst_l2_b5_t7_i3_h9_hx").tensors());
        Random rnd = new Random(29);
        List<Row> rows = idAndSteps(rnd, 30, 12, 3);
        Dataset<Row> df = parquet("job-in", rows, ID_STEPS, 2);
        String in = tmp.resolve("job-in.parquet").toString();
        String out = tmp.resolve("job-out.parquet").toString();
        String[] args = {"--weights", weights.toString(), "--input", in, "--output", out, "--input-col", "steps",
            "--output-col", "", "--hn-col", "h_n", "--backend", "native", "--threads", "1", "--batch", "8"};
        assertEquals(30, ScoreTable.run(spark, args));
        List<Row> written = TestSpark.byId(spark.read().parquet(out).collectAsList());
        List<Row> expected = TestSpark.byId(new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                .setOutputCol("").setHnCol("h_n").setBackend("native").transform(df).collectAsList());
        assertEquals(List.of("id", "steps", "h_n"), Arrays.asList(spark.read().parquet(out).columns()));
        for (int i = 0; i < 30; i++) {
            assertSameBits(floats(expected.get(i).getAs("h_n")), floats(written.get(i).getAs("h_n")), "h_n of row " + i);
        }
        long before = Files.walk(Path.of(out)).count();
        Exception exists = assertThrows(Exception.class, () -> ScoreTable.run(spark, args));
        assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());
        assertEquals(before, Files.walk(Path.of(out)).count(), "the existing output is untouched");
        assertMessage("option --output: required", () -> ScoreTable.run(spark, new String[] {"--weights", "w", "--input", in}));
        assertMessage("unknown option '--thread'; options: --weights, --input, --output, --format, --prefix, --input-col, "
                + "--lengths-col, --h0-col, --c0-col, --output-col, --hn-col, --cn-col, --backend, --device, --batch, --threads",
                () -> ScoreTable.run(spark, new String[] {"--thread", "2"}));
        assertMessage("option --threads: expected an integer, got 'two'",
                () -> ScoreTable.run(spark, new String[] {"--weights", "w", "--input", in, "--output", out, "--threads", "two"}));
    }

    @Test
    void lengthsOfEveryIntegerTypeGiveTheSameBits() throws IOException {
        Path weights = TestSpark.writeWeights(tmp, "lengths", TestSpark.golden("seqfirst_l2_b5_t7_i3_h9_hx").tensors());
        Random rnd = new Random(31);
        List<float[][]> data = new ArrayList<>();
        List<Integer> lens = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            float[][] steps = randomSteps(rnd, 1 + rnd.nextInt(12), 3);
            data.add(steps);
            lens.add(i % 7 == 2 ? null : rnd.nextInt(steps.length + 1)); // null: all steps; 0: null outputs
        }
        List<List<Row>> results = new ArrayList<>();
        for (DataType type : new DataType[] {DataTypes.IntegerType, DataTypes.LongType, DataTypes.ShortType}) {
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                Integer l = lens.get(i);
                Object len = l == null ? null : type == DataTypes.LongType ? (Object) (long) l
                        : type == DataTypes.ShortType ? (Object) (short) (int) l : (Object) l;
                rows.add(RowFactory.create(i, data.get(i), len));
            }
            StructType schema = new StructType().add("id", DataTypes.IntegerType).add("steps", SEQ).add("len", type);
            LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                    .setLengthsCol("len").setHnCol("h_n").setBackend("native").setBatchSize(6);
            results.add(TestSpark.byId(t.transform(parquet("lengths-" + type.typeName(), rows, schema, 2)).collectAsList()));
        }
        try (Lstm lstm = driverModel(StateDict.load(weights))) {
            for (int i = 0; i < 25; i++) {
                float[][] steps = data.get(i);
                int len = lens.get(i) == null ? steps.length : lens.get(i);
                for (List<Row> out : results) {
                    if (len == 0) {
                        assertNull(out.get(i).getAs("h_n"), "h_n of row " + i + " with length 0");
                        continue;
                    }
                    float[] flat = new float[len * 3];
                    for (int s = 0; s < len; s++) {
                        System.arraycopy(steps[s], 0, flat, s * 3, 3);
                    }
                    LstmOutput ref = lstm.forward(Tensor.of(flat, 1, len, 3));
                    float[][] o = floats(out.get(i).getAs("output"));
                    assertEquals(steps.length, o.length, "output keeps all steps of row " + i);
                    float[][] expected = new float[steps.length][9];
                    for (int s = 0; s < len; s++) {
                        System.arraycopy(ref.output().floatData(), s * 9, expected[s], 0, 9);
                    }
                    assertSameBits(expected, o, "output of row " + i + " (zero past length " + len + ")");
                    assertSameBits(TestSpark.stateOf(ref.hN(), 0), floats(out.get(i).getAs("h_n")), "h_n of row " + i);
                }
            }
        }
    }

    @Test
    void chunksScoredWithH0C0EqualWholeSequences() throws IOException {
        Path weights = TestSpark.writeWeights(tmp, "chunks", TestSpark.golden("seqfirst_l2_b5_t7_i3_h9_hx").tensors());
        Random rnd = new Random(5);
        int n = 12;
        StructType whole = new StructType().add("id", DataTypes.IntegerType).add("steps", SEQ);
        StructType chunk = whole.add("h0", SEQ).add("c0", SEQ);
        List<Row> wholeRows = new ArrayList<>();
        List<List<Row>> chunkRows = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int i = 0; i < n; i++) {
            int len = 10 + rnd.nextInt(20);
            float[][] steps = randomSteps(rnd, len, 3);
            wholeRows.add(RowFactory.create(i, steps));
            int cut1 = 1 + rnd.nextInt(len - 2);
            int cut2 = cut1 + 1 + rnd.nextInt(len - cut1 - 1);
            chunkRows.get(0).add(RowFactory.create(i, Arrays.copyOfRange(steps, 0, cut1), null, null));
            chunkRows.get(1).add(RowFactory.create(i, Arrays.copyOfRange(steps, cut1, cut2)));
            chunkRows.get(2).add(RowFactory.create(i, Arrays.copyOfRange(steps, cut2, len)));
        }
        LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                .setHnCol("h_n").setCnCol("c_n").setBackend("native").setBatchSize(5);
        List<Row> expected = TestSpark.byId(t.transform(parquet("whole", wholeRows, whole, 2)).collectAsList());

        LstmTransformer chunked = t.copy(new org.apache.spark.ml.param.ParamMap()).setH0Col("h0").setC0Col("c0");
        Dataset<Row> state = null;
        List<List<Row>> outputs = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            Dataset<Row> in = k == 0 ? parquet("chunk0", chunkRows.get(0), chunk, 2)
                    : parquet("chunk" + k, chunkRows.get(k), whole, 2).join(state, "id");
            List<Row> out = TestSpark.byId(chunked.transform(in).collectAsList());
            outputs.add(out);
            List<Row> next = new ArrayList<>();
            for (Row r : out) {
                next.add(RowFactory.create(r.getInt(r.fieldIndex("id")), floats(r.getAs("h_n")), floats(r.getAs("c_n"))));
            }
            state = spark.createDataFrame(next, new StructType().add("id", DataTypes.IntegerType).add("h0", SEQ).add("c0", SEQ));
        }
        for (int i = 0; i < n; i++) {
            List<float[]> joined = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                joined.addAll(Arrays.asList(floats(outputs.get(k).get(i).getAs("output"))));
            }
            assertSameBits(floats(expected.get(i).getAs("output")), joined.toArray(new float[0][]), "output of id " + i);
            assertSameBits(floats(expected.get(i).getAs("h_n")), floats(outputs.get(2).get(i).getAs("h_n")), "h_n of id " + i);
            assertSameBits(floats(expected.get(i).getAs("c_n")), floats(outputs.get(2).get(i).getAs("c_n")), "c_n of id " + i);
        }
    }

    @Test
    void savedAndLoadedInAPipelineGivesTheSameBits() throws IOException {
        Path weights = TestSpark.writeWeights(tmp, "saved", TestSpark.golden("seqfirst_l2_b5_t7_i3_h9_hx").tensors());
        Random rnd = new Random(3);
        Dataset<Row> df = parquet("saved", idAndSteps(rnd, 20, 9, 3), ID_STEPS, 2);
        LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps")
                .setOutputCol("").setHnCol("h").setBackend("java").setBatchSize(3);
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {t}).fit(df);
        String dir = tmp.resolve("pipeline").toString();
        model.write().overwrite().save(dir);
        PipelineModel loaded = PipelineModel.load(dir);
        LstmTransformer back = (LstmTransformer) loaded.stages()[0];
        assertEquals(t.uid(), back.uid());
        assertEquals(weights.toString(), back.getOrDefault(back.weightsPath()));
        assertEquals("java", back.getOrDefault(back.backend()));
        assertEquals(3, (Integer) back.getOrDefault(back.batchSize()));
        assertEquals("", back.getOrDefault(back.outputCol()));
        List<Row> a = TestSpark.byId(model.transform(df).collectAsList());
        List<Row> b = TestSpark.byId(loaded.transform(df).collectAsList());
        assertEquals(List.of("id", "steps", "h"), Arrays.asList(loaded.transform(df).columns()));
        for (int i = 0; i < 20; i++) {
            assertSameBits(floats(a.get(i).getAs("h")), floats(b.get(i).getAs("h")), "h_n of row " + i);
        }
        String single = tmp.resolve("single").toString();
        t.write().save(single);
        assertEquals("h", LstmTransformer.load(single).getOrDefault(t.hnCol()));
    }

    @Test
    void badColumnsAndValuesAreNamed() throws IOException {
        Path weights = TestSpark.writeWeights(tmp, "bad", TestSpark.golden("seqfirst_l2_b5_t7_i3_h9_hx").tensors());
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("steps", SEQ)
                .add("flat", DataTypes.createArrayType(DataTypes.FloatType)).add("name", DataTypes.StringType)
                .add("len", DataTypes.IntegerType);
        LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps");
        assertMessage("inputCol 'nope': no such column; columns: id, steps, flat, name, len",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setInputCol("nope").transformSchema(schema));
        assertMessage("inputCol 'flat': expected array<array<float>> or array<array<double>> (steps x features), got array<float>",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setInputCol("flat").transformSchema(schema));
        assertMessage("lengthsCol 'name': expected int, long or short, got string",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setLengthsCol("name").transformSchema(schema));
        assertMessage("(h0Col, c0Col): set both or neither, got only h0Col",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setH0Col("steps").transformSchema(schema));
        assertMessage("outputCol 'name': a column of that name already exists",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setOutputCol("name").transformSchema(schema));
        assertMessage("hnCol 'output': used for two outputs",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setHnCol("output").transformSchema(schema));
        assertMessage("outputCol, hnCol, cnCol: all empty; expected at least one output column",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setOutputCol("").transformSchema(schema));
        assertMessage("weightsPath: not set; expected the state_dict file of a torch.nn.LSTM",
                () -> new LstmTransformer().transformSchema(schema));
        assertMessage("device: expected cpu, cuda or cuda:N, got 'gpu'",
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setDevice("gpu").transformSchema(schema));
        assertThrows(IllegalArgumentException.class, () -> t.setBackend("tpu"));

        List<Row> rows = List.of(RowFactory.create(0, new float[][] {{1, 2, 3}, {4, 5, 6}}, null, "a", 3));
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        IllegalArgumentException prefix = assertThrows(IllegalArgumentException.class,
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setPrefix("encoder.").transform(df));
        assertTrue(prefix.getMessage().contains("no tensor name starts with 'encoder.'"), prefix.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setWeightsPath(tmp.resolve("none.pt").toString()).transform(df));
        assertTrue(missing.getMessage().contains("none.pt': no such file"), missing.getMessage());
        Path garbage = Files.write(tmp.resolve("garbage.safetensors"), new byte[] {1, 2, 3});
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> t.copy(new org.apache.spark.ml.param.ParamMap()).setWeightsPath(garbage.toString()).transform(df));
        assertTrue(bad.getMessage().startsWith("weightsPath '" + garbage + "'"), bad.getMessage());

        assertTaskFails("lengths: expected 0..2 (the row's number of steps in 'steps'), got 3",
                t.copy(new org.apache.spark.ml.param.ParamMap()).setLengthsCol("len").transform(df));
        Dataset<Row> wide = spark.createDataFrame(List.of(RowFactory.create(0, new float[][] {{1, 2, 3}, {4, 5, 6, 7}}, null, "a", 1)), schema);
        assertTaskFails("input has inconsistent input_size: got 4, expected 3 (element 1 of 'steps')", t.transform(wide));
        Dataset<Row> holes = spark.createDataFrame(List.of(RowFactory.create(0, new Object[] {new Float[] {1f, null, 3f}}, null, "a", 1)), schema);
        assertTaskFails("steps: value 1 of element 0 is null", t.transform(holes));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable run) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, run);
        assertEquals(expected, e.getMessage());
    }

    /** The job fails, and the task's exception (somewhere in the chain Spark wraps it in) says {@code expected}. */
    private static void assertTaskFails(String expected, Dataset<Row> scored) {
        Exception e = assertThrows(Exception.class, scored::collectAsList);
        StringBuilder all = new StringBuilder();
        for (Throwable c = e; c != null; c = c.getCause()) {
            all.append(c).append('\n');
        }
        assertTrue(all.toString().contains(expected), "expected '" + expected + "' in:\n" + all);
    }

    @Test
    void doubleColumnsRunInFloat64() throws IOException {
        Safetensors.Contents g = TestSpark.golden("seqfirst_l2_b5_t7_i3_h9_hx");
        Path weights = TestSpark.writeWeights(tmp, "f64", g.tensors());
        DataType seq64 = DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.DoubleType));
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(0, new double[][] {{0.5, -1, 2}, {1e-3, 3, -0.25}})),
                new StructType().add("id", DataTypes.IntegerType).add("steps", seq64));
        // JAVA: its float64 results do not depend on batching (NATIVE's float64 GEMMs are LibTorch's, which do).
        LstmTransformer t = new LstmTransformer().setWeightsPath(weights.toString()).setInputCol("steps").setBackend("java");
        Dataset<Row> out = t.transform(df);
        assertEquals(DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.DoubleType, false), false),
                out.schema().apply("output").dataType());
        Object value = out.select(functions.col("output")).first().get(0);
        StateDict sd = StateDict.load(weights).withDtype(dev.lstm4j.DType.FLOAT64);
        try (Lstm lstm = Lstm.create(LstmConfig.inferFrom(sd).batchFirst(true).build(), sd, Backend.JAVA, Device.cpu())) {
            double[] ref = lstm.forward(Tensor.of(new double[] {0.5, -1, 2, 1e-3, 3, -0.25}, 1, 2, 3)).output().doubleData();
            scala.collection.Seq<?> steps = (scala.collection.Seq<?>) value;
            for (int s = 0; s < 2; s++) {
                scala.collection.Seq<?> v = (scala.collection.Seq<?>) steps.apply(s);
                for (int j = 0; j < 9; j++) {
                    assertEquals(Double.doubleToLongBits(ref[s * 9 + j]), Double.doubleToLongBits((Double) v.apply(j)));
                }
            }
        }
    }
}
