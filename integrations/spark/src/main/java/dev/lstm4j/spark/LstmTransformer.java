package dev.lstm4j.spark;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.integrations.WeightsPayload;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@code Transformer} that runs a PyTorch {@code torch.nn.LSTM} (its {@code state_dict} in a
 * {@code .pt} or {@code .safetensors} file) over a column of sequences, with lstm4j.
 *
 * <pre>{@code
 * LstmTransformer lstm = new LstmTransformer()
 *         .setWeightsPath("hdfs:///models/tagger.pt").setPrefix("encoder.")
 *         .setInputCol("steps")            // array<array<float>>: steps x input_size
 *         .setOutputCol("encoded")         // array<array<float>>: steps x (D * H_out)
 *         .setHnCol("h_n");                // array<array<float>>: (D * num_layers) x H_out
 * Dataset<Row> scored = lstm.transform(df);
 * }</pre>
 *
 * <p>Each row is one sequence ({@code batch_first}): {@code array<array<float>>} runs in float32,
 * {@code array<array<double>>} in float64 (the weights are converted). With {@link #lengthsCol()}, a
 * row runs over its first {@code length} steps only and its output is zero past them, as
 * {@code pack_padded_sequence} / {@code pad_packed_sequence} give; a null length means all steps. With
 * {@link #h0Col()} and {@link #c0Col()} a row starts from its own state, shaped like
 * {@code h_n} / {@code c_n}, so a long sequence can be scored in chunks, each starting from the
 * previous chunk's {@code h_n}, {@code c_n} (a null state means zeros). A null or empty input, or a
 * length of 0, gives null outputs.
 *
 * <p>The driver reads the weights once per {@code transform} (through Hadoop's {@code FileSystem},
 * so any URI the cluster reads) and broadcasts the bytes; each executor JVM builds a model once per
 * content hash and reuses it across tasks and jobs (a small cache, closed at shutdown). Partitions run
 * as batches of {@link #batchSize()} rows, one packed forward pass each, using at most {@link #threads()}
 * threads (default: {@code OMP_NUM_THREADS}, which Spark sets to {@code spark.task.cpus}). Where a row's result does not
 * depend on the rows batched with it, it is the same bits for any partitioning and batch size: float32
 * on NATIVE and JAVA, float64 on JAVA and LIBTORCH (checked by this project's tests and by hand). float32
 * on LIBTORCH (oneDNN/MKL) and float64 on NATIVE (LibTorch GEMMs) can differ in the last bit between
 * batch compositions. On NATIVE and JAVA no result depends on the thread count.
 *
 * <p>Saved and loaded with the rest of a {@code Pipeline} ({@link #write()}, {@link #read()},
 * {@link #load(String)}); the weights file itself is referenced by its path, not copied.
 */
public final class LstmTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private static final DefaultParamsReadable<LstmTransformer> READABLE = new DefaultParamsReadable<>() {
    };
    private static final String[] BACKENDS = {"auto", "native", "java", "libtorch"};

    private final String uid;
    private final Param<String> weightsPath;
    private final Param<String> prefix;
    private final Param<String> inputCol;
    private final Param<String> lengthsCol;
    private final Param<String> h0Col;
    private final Param<String> c0Col;
    private final Param<String> outputCol;
    private final Param<String> hnCol;
    private final Param<String> cnCol;
    private final Param<String> backend;
    private final Param<String> device;
    private final IntParam batchSize;
    private final IntParam threads;

    /** A transformer with a random uid and the default params. */
    public LstmTransformer() {
        this(Identifiable.randomUID("lstm4j"));
    }

    /** A transformer with the given uid (used by {@link #load(String)}). */
    public LstmTransformer(String uid) {
        this.uid = uid;
        weightsPath = new Param<>(this, "weightsPath",
                "state_dict file of the torch.nn.LSTM (.pt or .safetensors), any path Hadoop's FileSystem reads");
        prefix = new Param<>(this, "prefix", "name prefix of the LSTM's tensors in the state_dict (e.g. 'encoder.')");
        inputCol = new Param<>(this, "inputCol", "input column, array<array<float>> or array<array<double>>: "
                + "steps x input_size per row");
        lengthsCol = new Param<>(this, "lengthsCol",
                "optional integer column: steps of each row that run (packed semantics); empty for none");
        h0Col = new Param<>(this, "h0Col", "optional initial h per row, (D*num_layers) x H_out; empty for zeros");
        c0Col = new Param<>(this, "c0Col", "optional initial c per row, (D*num_layers) x hidden_size; empty for zeros");
        outputCol = new Param<>(this, "outputCol", "per-step output column, steps x (D*H_out); empty for none");
        hnCol = new Param<>(this, "hnCol", "h_n column, (D*num_layers) x H_out; empty for none");
        cnCol = new Param<>(this, "cnCol", "c_n column, (D*num_layers) x hidden_size; empty for none");
        backend = new Param<>(this, "backend", "auto (NATIVE, or JAVA where NATIVE cannot load), native, java or libtorch",
                ParamValidators.inArray(BACKENDS));
        device = new Param<>(this, "device", "cpu, cuda or cuda:N");
        batchSize = new IntParam(this, "batchSize", "rows per forward pass", ParamValidators.gt(0));
        threads = new IntParam(this, "threads", "most threads one forward pass uses, the task's thread included; "
                + "0: the executor's default (-Dlstm4j.threads, else OMP_NUM_THREADS, which Spark sets to "
                + "spark.task.cpus, else the cores)", ParamValidators.gtEq(0));
        setDefault(prefix, "");
        setDefault(inputCol, "input");
        setDefault(lengthsCol, "");
        setDefault(h0Col, "");
        setDefault(c0Col, "");
        setDefault(outputCol, "output");
        setDefault(hnCol, "");
        setDefault(cnCol, "");
        setDefault(backend, "auto");
        setDefault(device, "cpu");
        setDefault(batchSize, 64);
        setDefault(threads, 0);
    }

    @Override
    public String uid() {
        return uid;
    }

    /** The weights file. */
    public Param<String> weightsPath() {
        return weightsPath;
    }

    /** The tensors' name prefix (default empty). */
    public Param<String> prefix() {
        return prefix;
    }

    /** The input column (default {@code input}). */
    public Param<String> inputCol() {
        return inputCol;
    }

    /** The optional lengths column. */
    public Param<String> lengthsCol() {
        return lengthsCol;
    }

    /** The optional h0 column. */
    public Param<String> h0Col() {
        return h0Col;
    }

    /** The optional c0 column. */
    public Param<String> c0Col() {
        return c0Col;
    }

    /** The per-step output column (default {@code output}; empty for none). */
    public Param<String> outputCol() {
        return outputCol;
    }

    /** The h_n column (default none). */
    public Param<String> hnCol() {
        return hnCol;
    }

    /** The c_n column (default none). */
    public Param<String> cnCol() {
        return cnCol;
    }

    /** The backend (default {@code auto}). */
    public Param<String> backend() {
        return backend;
    }

    /** The device (default {@code cpu}). */
    public Param<String> device() {
        return device;
    }

    /** Rows per forward pass (default 64). */
    public IntParam batchSize() {
        return batchSize;
    }

    /**
     * The most threads one forward pass uses, the task's own thread included (default 0: the executor's
     * default, {@code -Dlstm4j.threads} if set, else {@code OMP_NUM_THREADS}, which Spark sets to
     * {@code spark.task.cpus}, else the executor's cores). Match it to {@code spark.task.cpus}: a task
     * then uses the cores Spark reserved for it. See {@link dev.lstm4j.ModelOptions}.
     */
    public IntParam threads() {
        return threads;
    }

    /** Sets {@link #weightsPath()}. */
    public LstmTransformer setWeightsPath(String value) {
        set(weightsPath, value);
        return this;
    }

    /** Sets {@link #prefix()}. */
    public LstmTransformer setPrefix(String value) {
        set(prefix, value);
        return this;
    }

    /** Sets {@link #inputCol()}. */
    public LstmTransformer setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    /** Sets {@link #lengthsCol()}. */
    public LstmTransformer setLengthsCol(String value) {
        set(lengthsCol, value);
        return this;
    }

    /** Sets {@link #h0Col()}. */
    public LstmTransformer setH0Col(String value) {
        set(h0Col, value);
        return this;
    }

    /** Sets {@link #c0Col()}. */
    public LstmTransformer setC0Col(String value) {
        set(c0Col, value);
        return this;
    }

    /** Sets {@link #outputCol()}. */
    public LstmTransformer setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    /** Sets {@link #hnCol()}. */
    public LstmTransformer setHnCol(String value) {
        set(hnCol, value);
        return this;
    }

    /** Sets {@link #cnCol()}. */
    public LstmTransformer setCnCol(String value) {
        set(cnCol, value);
        return this;
    }

    /** Sets {@link #backend()}: {@code auto}, {@code native}, {@code java} or {@code libtorch}. */
    public LstmTransformer setBackend(String value) {
        set(backend, value.toLowerCase(Locale.ROOT));
        return this;
    }

    /** Sets {@link #device()}. */
    public LstmTransformer setDevice(String value) {
        set(device, value);
        return this;
    }

    /** Sets {@link #batchSize()}. */
    public LstmTransformer setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    /** Sets {@link #threads()}: a positive count, or 0 for the executor's default. */
    public LstmTransformer setThreads(int value) {
        set(threads, value);
        return this;
    }

    /** The reader for {@code Pipeline} and {@code LstmTransformer.load}. */
    public static MLReader<LstmTransformer> read() {
        return READABLE.read();
    }

    /** Loads a transformer saved with {@code write().save(path)}. */
    public static LstmTransformer load(String path) {
        return READABLE.load(path);
    }

    @Override
    public LstmTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        if (!isDefined(weightsPath) || $(weightsPath).isEmpty()) {
            throw new IllegalArgumentException("weightsPath: not set; expected the state_dict file of a torch.nn.LSTM");
        }
        Device.parse($(device)); // throws naming the bad spelling
        DataType elem = sequenceElement(schema, "inputCol", $(inputCol));
        if (!$(lengthsCol).isEmpty()) {
            DataType t = field(schema, "lengthsCol", $(lengthsCol)).dataType();
            if (!t.equals(DataTypes.IntegerType) && !t.equals(DataTypes.LongType) && !t.equals(DataTypes.ShortType)) {
                throw new IllegalArgumentException("lengthsCol '" + $(lengthsCol) + "': expected int, long or short, got "
                        + t.simpleString());
            }
        }
        if ($(h0Col).isEmpty() != $(c0Col).isEmpty()) {
            throw new IllegalArgumentException("(h0Col, c0Col): set both or neither, got only "
                    + ($(h0Col).isEmpty() ? "c0Col" : "h0Col"));
        }
        if (!$(h0Col).isEmpty()) {
            for (String[] s : new String[][] {{"h0Col", $(h0Col)}, {"c0Col", $(c0Col)}}) {
                DataType e = sequenceElement(schema, s[0], s[1]);
                if (!e.equals(elem)) {
                    throw new IllegalArgumentException(s[0] + " '" + s[1] + "': expected array<array<"
                            + elem.simpleString() + ">> like inputCol, got array<array<" + e.simpleString() + ">>");
                }
            }
        }
        String[] outs = {$(outputCol), $(hnCol), $(cnCol)};
        String[] names = {"outputCol", "hnCol", "cnCol"};
        Set<String> existing = new HashSet<>(Arrays.asList(schema.fieldNames()));
        Set<String> seen = new HashSet<>();
        StructType result = schema;
        DataType outType = DataTypes.createArrayType(DataTypes.createArrayType(elem, false), false);
        for (int i = 0; i < outs.length; i++) {
            if (outs[i].isEmpty()) {
                continue;
            }
            if (existing.contains(outs[i])) {
                throw new IllegalArgumentException(names[i] + " '" + outs[i] + "': a column of that name already exists");
            }
            if (!seen.add(outs[i])) {
                throw new IllegalArgumentException(names[i] + " '" + outs[i] + "': used for two outputs");
            }
            result = result.add(new StructField(outs[i], outType, true, org.apache.spark.sql.types.Metadata.empty()));
        }
        if (seen.isEmpty()) {
            throw new IllegalArgumentException("outputCol, hnCol, cnCol: all empty; expected at least one output column");
        }
        return result;
    }

    private static StructField field(StructType schema, String param, String name) {
        for (StructField f : schema.fields()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException(param + " '" + name + "': no such column; columns: "
                + String.join(", ", schema.fieldNames()));
    }

    /** The element type of an array<array<float|double>> column, or an exception naming the column. */
    private static DataType sequenceElement(StructType schema, String param, String name) {
        DataType t = field(schema, param, name).dataType();
        if (t instanceof ArrayType && ((ArrayType) t).elementType() instanceof ArrayType) {
            DataType e = ((ArrayType) ((ArrayType) t).elementType()).elementType();
            if (e.equals(DataTypes.FloatType) || e.equals(DataTypes.DoubleType)) {
                return e;
            }
        }
        throw new IllegalArgumentException(param + " '" + name + "': expected array<array<float>> or "
                + "array<array<double>> (steps x features), got " + t.simpleString());
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = dataset.schema();
        StructType outSchema = transformSchema(schema);
        DType dtype = sequenceElement(schema, "inputCol", $(inputCol)).equals(DataTypes.FloatType)
                ? DType.FLOAT32 : DType.FLOAT64;
        if (!$(backend).equals("auto")) {
            Backend.parse($(backend));
        }
        SparkSession spark = dataset.sparkSession();
        WeightsPayload payload = readWeights(spark);
        // Fail on the driver, before any task runs, for a bad file, prefix or state_dict.
        LstmConfig.inferFrom(payload.stateDict($(prefix), dtype)).build();
        Broadcast<WeightsPayload> shipped = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(payload);
        ScoringSpec spec = spec(schema, dtype);
        // Scored on Spark's internal rows: no value of the sequence columns is boxed (see PartitionScorer).
        org.apache.spark.sql.classic.SparkSession classic = classic(spark);
        RDD<InternalRow> scored = ((org.apache.spark.sql.classic.Dataset<?>) dataset).queryExecution().toRdd()
                .toJavaRDD().mapPartitions(new PartitionScorer(shipped, spec)).rdd();
        return classic.internalCreateDataFrame(scored, outSchema, false);
    }

    /** What an executor needs, from the params and the input schema. */
    ScoringSpec spec(StructType schema, DType dtype) {
        char lengthsType = 0;
        if (!$(lengthsCol).isEmpty()) {
            DataType t = schema.apply($(lengthsCol)).dataType();
            lengthsType = t.equals(DataTypes.LongType) ? 'l' : t.equals(DataTypes.ShortType) ? 's' : 'i';
        }
        return new ScoringSpec($(prefix), dtype, $(backend), $(device), (Integer) $(threads), (Integer) $(batchSize),
                $(inputCol), schema.fieldIndex($(inputCol)), index(schema, $(lengthsCol)), lengthsType,
                index(schema, $(h0Col)), index(schema, $(c0Col)), !$(outputCol).isEmpty(), !$(hnCol).isEmpty(),
                !$(cnCol).isEmpty());
    }

    private static org.apache.spark.sql.classic.SparkSession classic(SparkSession spark) {
        if (!(spark instanceof org.apache.spark.sql.classic.SparkSession)) {
            throw new IllegalStateException("LstmTransformer runs in a classic Spark session (the JVM that runs the "
                    + "executors' tasks), not through Spark Connect; got " + spark.getClass().getName());
        }
        return (org.apache.spark.sql.classic.SparkSession) spark;
    }

    private static int index(StructType schema, String col) {
        return col.isEmpty() ? -1 : schema.fieldIndex(col);
    }

    private WeightsPayload readWeights(SparkSession spark) {
        String location = $(weightsPath);
        Path path = new Path(location);
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            long size = fs.getFileStatus(path).getLen();
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("weightsPath '" + location + "': " + size
                        + " bytes; files over 2 GB are not supported");
            }
            try (InputStream in = fs.open(path)) {
                return new WeightsPayload("weightsPath", location, in.readAllBytes());
            }
        } catch (java.io.FileNotFoundException e) {
            throw new IllegalArgumentException("weightsPath '" + location + "': no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException("weightsPath '" + location + "': " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "LstmTransformer(uid=" + uid + ", weightsPath=" + (isDefined(weightsPath) ? $(weightsPath) : "unset") + ")";
    }
}
