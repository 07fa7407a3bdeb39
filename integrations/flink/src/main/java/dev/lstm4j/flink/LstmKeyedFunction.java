package dev.lstm4j.flink;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.integrations.ModelCache;
import dev.lstm4j.integrations.Models;
import dev.lstm4j.integrations.WeightsPayload;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Streams each key's sequence through a unidirectional PyTorch {@code torch.nn.LSTM}, chunk by chunk:
 * the key's {@code (h, c)} lives in Flink keyed state ({@link LstmKeyState}, a POJO), so the chunks of
 * a key, in order and interleaved with any other keys', give exactly the bits one forward pass over the
 * key's whole sequence gives, and survive checkpoints and rescaling like any keyed state.
 *
 * <pre>{@code
 * DataStream<LstmChunkResult> scored = chunks
 *         .keyBy(c -> c.key)
 *         .process(LstmKeyedFunction.<String>builder("s3://models/tagger.pt").prefix("encoder.")
 *                 .stateTtl(Duration.ofHours(6)).build());
 * }</pre>
 *
 * <p>The weights file is read once, when the job is built (through Flink's {@code FileSystem}, so any
 * scheme the client reads), and travels inside the function. Each TaskManager JVM builds the model once
 * in {@link #open(OpenContext)} and shares it among its subtasks (a small cache keyed by the content
 * hash, closed at shutdown). float32, batch 1 per chunk: the latency path.
 */
public final class LstmKeyedFunction<K> extends KeyedProcessFunction<K, LstmChunk, LstmChunkResult> {
    private static final long serialVersionUID = 1L;

    private final WeightsPayload weights;
    private final String prefix;
    private final String backend;
    private final String device;
    private final int threads;
    private final Duration stateTtl;

    private transient ModelCache.Lease lease;
    private transient Lstm model;
    private transient ValueState<LstmKeyState> state;

    private LstmKeyedFunction(Builder<K> b) {
        this.weights = b.weights;
        this.prefix = b.prefix;
        this.backend = b.backend;
        this.device = b.device;
        this.threads = b.threads;
        this.stateTtl = b.stateTtl;
    }

    /**
     * A builder for the LSTM whose state_dict ({@code .pt} or {@code .safetensors}) is at {@code location}
     * (a local path or any URI Flink's {@code FileSystem} reads); the file is read here.
     *
     * @throws UncheckedIOException if it cannot be read
     */
    public static <K> Builder<K> builder(String location) {
        Objects.requireNonNull(location, "location");
        Path path = new Path(location);
        try (InputStream in = path.getFileSystem().open(path)) {
            return new Builder<>(new WeightsPayload("weights", location, in.readAllBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException("weights '" + location + "': " + e.getMessage(), e);
        }
    }

    /** A builder for the LSTM whose state_dict file's bytes are {@code bytes} ({@code name} for messages). */
    public static <K> Builder<K> builder(byte[] bytes, String name) {
        return new Builder<>(new WeightsPayload("weights", name, bytes.clone()));
    }

    /** Options of an {@link LstmKeyedFunction}. */
    public static final class Builder<K> {
        private final WeightsPayload weights;
        private String prefix = "";
        private String backend = "auto";
        private String device = "cpu";
        private int threads;
        private Duration stateTtl;

        private Builder(WeightsPayload weights) {
            this.weights = weights;
        }

        /** The tensors' name prefix in the state_dict (the LSTM at {@code model.encoder}: {@code encoder.}). */
        public Builder<K> prefix(String value) {
            this.prefix = Objects.requireNonNull(value, "prefix");
            return this;
        }

        /** {@code auto} (NATIVE, or JAVA where NATIVE cannot load; the default), {@code native}, {@code java}, {@code libtorch}. */
        public Builder<K> backend(String value) {
            String v = value.toLowerCase(Locale.ROOT);
            if (!v.equals("auto")) {
                Backend.parse(v);
            }
            this.backend = v;
            return this;
        }

        /** {@code cpu} (default), {@code cuda} or {@code cuda:N}. */
        public Builder<K> device(String value) {
            Device.parse(value);
            this.device = value;
            return this;
        }

        /**
         * The most threads one forward call uses, the subtask's own thread included (default 0: the
         * TaskManager's default, {@code -Dlstm4j.threads} if set, else {@code OMP_NUM_THREADS}, else its
         * cores). With several slots per TaskManager, cores / slots keeps subtasks off each other's cores;
         * chunks are short (batch 1), so 1 is often best. See {@link dev.lstm4j.ModelOptions}.
         *
         * @throws IllegalArgumentException if {@code value} is negative
         */
        public Builder<K> threads(int value) {
            Models.threads(value); // checks the sign
            this.threads = value;
            return this;
        }

        /**
         * Forget a key's state after {@code ttl} without chunks (Flink state TTL, refreshed on every
         * chunk); its next chunk starts from zeros. Default: kept for ever.
         */
        public Builder<K> stateTtl(Duration ttl) {
            if (ttl != null && (ttl.isNegative() || ttl.isZero())) {
                throw new IllegalArgumentException("stateTtl: expected a positive duration, got " + ttl);
            }
            this.stateTtl = ttl;
            return this;
        }

        /**
         * The function; the weights are parsed here once, so a bad file, prefix or a bidirectional LSTM
         * fails when the job is built, not on the TaskManagers.
         */
        public LstmKeyedFunction<K> build() {
            checkStreamable(LstmConfig.inferFrom(weights.stateDict(prefix, DType.FLOAT32)).build());
            return new LstmKeyedFunction<>(this);
        }
    }

    private static void checkStreamable(LstmConfig config) {
        if (config.bidirectional()) {
            throw new IllegalArgumentException("weights: a bidirectional LSTM cannot stream; the reverse direction "
                    + "of a chunk would need the steps after it");
        }
    }

    /** The model-cache key on this TaskManager: the weights, prefix and how they run (threads resolved here). */
    String cacheKey() {
        return weights.sha256() + '|' + prefix + '|' + backend + '|' + device + "|threads=" + Models.threads(threads);
    }

    @Override
    public void open(OpenContext openContext) {
        lease = ModelCache.SHARED.acquire(cacheKey(), this::buildModel);
        model = lease.model();
        ValueStateDescriptor<LstmKeyState> descriptor = new ValueStateDescriptor<>("lstm4j-state", LstmKeyState.class);
        if (stateTtl != null) {
            descriptor.enableTimeToLive(StateTtlConfig.newBuilder(stateTtl)
                    .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .build());
        }
        state = getRuntimeContext().getState(descriptor);
    }

    private Lstm buildModel() {
        StateDict sd = weights.stateDict(prefix, DType.FLOAT32);
        LstmConfig config = LstmConfig.inferFrom(sd).batchFirst(true).build();
        checkStreamable(config);
        return Models.create(config, sd, backend, device, threads);
    }

    @Override
    public void processElement(LstmChunk chunk, Context ctx, Collector<LstmChunkResult> out) throws IOException {
        LstmConfig cfg = model.config();
        int layers = cfg.numLayers();
        int hOut = cfg.realHiddenSize();
        int hidden = cfg.hiddenSize();
        LstmKeyState previous = state.value();
        if (chunk.steps == null || chunk.steps.length == 0) {
            // Nothing to run: the state stays, the result says where it stands.
            float[] h = previous == null ? new float[layers * hOut] : previous.h;
            out.collect(new LstmChunkResult(chunk.key, chunk.seq, new float[0][], rows(h, layers, hOut)));
            return;
        }
        int steps = chunk.steps.length;
        int inputSize = cfg.inputSize();
        float[] x = new float[steps * inputSize];
        for (int t = 0; t < steps; t++) {
            float[] row = chunk.steps[t];
            if (row == null || row.length != inputSize) {
                throw new IllegalArgumentException("chunk " + chunk.seq + " of key '" + chunk.key + "': input has "
                        + "inconsistent input_size: got " + (row == null ? "null" : row.length) + ", expected "
                        + inputSize + " (step " + t + ")");
            }
            System.arraycopy(row, 0, x, t * inputSize, inputSize);
        }
        Tensor h0 = previous == null ? null : Tensor.of(previous.h, layers, 1, hOut);
        Tensor c0 = previous == null ? null : Tensor.of(previous.c, layers, 1, hidden);
        LstmOutput r = model.forward(Tensor.of(x, 1, steps, inputSize), h0, c0);
        state.update(new LstmKeyState(r.hN().floatData(), r.cN().floatData()));
        out.collect(new LstmChunkResult(chunk.key, chunk.seq, rows(r.output().floatData(), steps, hOut),
                rows(r.hN().floatData(), layers, hOut)));
    }

    private static float[][] rows(float[] flat, int n, int width) {
        float[][] r = new float[n][width];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * width, r[i], 0, width);
        }
        return r;
    }

    @Override
    public void close() {
        if (lease != null) {
            lease.close();
            lease = null;
            model = null;
        }
    }
}
