package dev.lstm4j;

import dev.lstm4j.spi.LstmEngine;
import java.util.Arrays;
import java.util.Objects;

/**
 * A {@code torch.nn.LSTM} with fixed weights, ready to run forward passes on one {@link Backend} and
 * {@link Device}. Results match PyTorch's to float rounding.
 *
 * <pre>{@code
 * LstmConfig config = LstmConfig.builder(64, 128).numLayers(2).batchFirst(true).build();
 * try (Lstm lstm = Lstm.create(config, StateDict.load(Path.of("lstm.safetensors")))) {
 *     LstmOutput out = lstm.forward(Tensor.of(data, 8, 32, 64)); // (batch, seq, input_size)
 *     Tensor hN = out.hN();                                       // (num_layers, batch, hidden_size)
 * }
 * }</pre>
 *
 * <p>Weights are checked and prepared once, at creation. An {@code Lstm} holds native memory on
 * native backends: close it. It is thread-safe: several threads may call {@code forward} at once
 * (each call works in its own scratch memory) and each gets exactly the bits it would get alone;
 * {@link #close()} waits for calls in flight, a second {@code close()} does nothing, and a call after
 * it throws {@link IllegalStateException}. A streaming {@link LstmState} belongs to one thread at a time.
 */
public final class Lstm implements AutoCloseable {
    private final LstmConfig config;
    private final Backend backend;
    private final Device device;
    private final LstmEngine engine;
    private final Lifecycle lifecycle;
    private final int threads;

    private Lstm(LstmConfig config, Backend backend, Device device, LstmEngine engine, int threads) {
        this.config = config;
        this.backend = backend;
        this.device = device;
        this.engine = engine;
        this.threads = threads;
        this.lifecycle = new Lifecycle("Lstm", engine);
    }

    /**
     * An LSTM on the CPU, on the {@link Backend#NATIVE} backend where its native library loads and on
     * {@link Backend#JAVA} where it does not (another OS or CPU, no JNI, the natives left out of the class
     * path, a broken install): {@link #backend()} tells which, and the first fallback for each reason is
     * logged once through {@link System.Logger} ({@code dev.lstm4j}, level INFO) with the reason. Name a
     * backend with {@link #create(LstmConfig, StateDict, Backend, Device)} to never fall back.
     *
     * @throws IllegalArgumentException if the weights do not fit {@code config} (all problems listed)
     */
    public static Lstm create(LstmConfig config, StateDict weights) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        return create(config, weights, Engines.defaultBackend(), Device.cpu());
    }

    /**
     * An LSTM on the given backend and device.
     *
     * @throws IllegalArgumentException if the weights do not fit {@code config} (all problems listed)
     * @throws IllegalStateException    if the backend cannot run here (the message says why); an explicit
     *                                  backend is never replaced by another
     */
    public static Lstm create(LstmConfig config, StateDict weights, Backend backend, Device device) {
        return create(config, weights, backend, device, ModelOptions.defaults());
    }

    /**
     * An LSTM on the given backend and device, run as {@code options} say (its thread count: see
     * {@link ModelOptions}).
     *
     * @throws IllegalArgumentException if the weights do not fit {@code config} (all problems listed),
     *                                  or the default thread count's system property is malformed
     * @throws IllegalStateException    if the backend cannot run here (the message says why)
     */
    public static Lstm create(LstmConfig config, StateDict weights, Backend backend, Device device,
            ModelOptions options) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(device, "device");
        weights.checkMatches(config.parameterShapes(), config.dtype(), config.toString());
        if (config.precision() != Precision.FULL && (backend != Backend.NATIVE || device.isCpu())) {
            throw new IllegalArgumentException("precision: " + config.precision()
                    + " runs on the NATIVE backend on a CUDA device, got " + backend + " on " + device);
        }
        int threads = options.threads();
        LstmEngine engine = Engines.available(backend).createLstm(config, weights, device, threads);
        return new Lstm(config, backend, device, engine, threads);
    }

    /** The configuration. */
    public LstmConfig config() {
        return config;
    }

    /** The backend running the forward passes. */
    public Backend backend() {
        return backend;
    }

    /** The device holding the weights. */
    public Device device() {
        return device;
    }

    /**
     * The most threads a forward uses, the caller included, as given at creation (see
     * {@link ModelOptions}; a CPU engine uses at most its process-wide team's size of them).
     */
    public int threads() {
        return threads;
    }

    /** {@code forward(input)}: zero initial state. */
    public LstmOutput forward(Tensor input) {
        return forward(input, null, null);
    }

    /** Checks input, h0 and c0 as PyTorch does and allocates zeroed output, h_n and c_n of the right shapes. */
    private LstmOutput validateAndAllocate(Tensor input, Tensor h0, Tensor c0) {
        Objects.requireNonNull(input, "input");
        checkDtype("input", input);
        if (input.dim() != 2 && input.dim() != 3) {
            throw new IllegalArgumentException("input: expected a 2-D (unbatched) or 3-D (batched) tensor, got "
                    + input.dim() + "-D " + Arrays.toString(input.shape()));
        }
        if (input.size(-1) != config.inputSize()) {
            throw new IllegalArgumentException("input has inconsistent input_size: got " + input.size(-1)
                    + ", expected " + config.inputSize());
        }
        boolean batched = input.dim() == 3;
        boolean batchFirst = batched && config.batchFirst();
        int seqLen = batched ? input.size(batchFirst ? 1 : 0) : input.size(0);
        int batch = batched ? input.size(batchFirst ? 0 : 1) : 1;
        if (seqLen == 0 || batch == 0) {
            throw new IllegalArgumentException("input: expected a non-empty sequence and batch, got shape "
                    + Arrays.toString(input.shape()));
        }
        int states = config.numDirections() * config.numLayers();
        int hOut = config.realHiddenSize();
        int[] hShape = batched ? new int[] {states, batch, hOut} : new int[] {states, hOut};
        int[] cShape = batched ? new int[] {states, batch, config.hiddenSize()} : new int[] {states, config.hiddenSize()};
        if ((h0 == null) != (c0 == null)) {
            throw new IllegalArgumentException("(h0, c0): pass both or neither, got " + (h0 == null ? "only c0" : "only h0"));
        }
        if (h0 != null) {
            checkState("h0", h0, hShape, "(D*num_layers" + (batched ? ", batch" : "") + ", proj_size or hidden_size)");
            checkState("c0", c0, cShape, "(D*num_layers" + (batched ? ", batch" : "") + ", hidden_size)");
        }
        int outFeatures = config.numDirections() * hOut;
        int[] outShape = !batched ? new int[] {seqLen, outFeatures}
                : batchFirst ? new int[] {batch, seqLen, outFeatures} : new int[] {seqLen, batch, outFeatures};
        Tensor output = Tensor.zeros(config.dtype(), outShape);
        Tensor hN = Tensor.zeros(config.dtype(), hShape);
        Tensor cN = Tensor.zeros(config.dtype(), cShape);
        return new LstmOutput(output, hN, cN);
    }

    /**
     * {@code forward(input, (h0, c0))}, with PyTorch's shapes.
     *
     * @param input (L, N, input_size), or (N, L, input_size) when batch_first, or (L, input_size) unbatched
     * @param h0    (D * num_layers, N, H_out) or (D * num_layers, H_out) unbatched; null for zeros
     * @param c0    (D * num_layers, N, hidden_size) or (D * num_layers, hidden_size) unbatched; null for zeros
     * @throws IllegalArgumentException naming the parameter and the expected and actual shapes
     * @throws IllegalStateException    if this LSTM is closed
     */
    public LstmOutput forward(Tensor input, Tensor h0, Tensor c0) {
        LstmOutput r = validateAndAllocate(input, h0, c0);
        boolean batched = input.dim() == 3;
        boolean batchFirst = batched && config.batchFirst();
        int seqLen = batched ? input.size(batchFirst ? 1 : 0) : input.size(0);
        int batch = batched ? input.size(batchFirst ? 0 : 1) : 1;
        Tensor output = r.output();
        Tensor hN = r.hN();
        Tensor cN = r.cN();
        lifecycle.run(() -> engine.forward(input, seqLen, batch, batchFirst, h0, c0, output, hN, cN));
        return new LstmOutput(output, hN, cN);
    }

    /**
     * {@code forward} over a batch of sequences of different lengths, with PyTorch's
     * {@code pack_padded_sequence(input, lengths, batch_first, enforce_sorted=False)} semantics: sequence
     * b runs over its first {@code lengths[b]} steps only (the reverse direction starts at its own last
     * step), {@code output} is zero past each length, and {@code h_n}, {@code c_n} hold each sequence's
     * state at its own last step. Finished sequences drop out of the computation; nothing is spent on
     * padding.
     *
     * @param input   (L, N, input_size), or (N, L, input_size) when batch_first; steps past a sequence's
     *                length are ignored
     * @param lengths N lengths, each in 1..L, in any order
     * @param h0      (D * num_layers, N, H_out) or null for zeros
     * @param c0      (D * num_layers, N, hidden_size) or null for zeros
     * @throws IllegalArgumentException naming the parameter and the expected and actual values
     */
    public LstmOutput forward(Tensor input, int[] lengths, Tensor h0, Tensor c0) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(lengths, "lengths");
        if (input.dim() != 3) {
            throw new IllegalArgumentException("input: lengths need a batched 3-D input, got " + input.dim() + "-D "
                    + Arrays.toString(input.shape()));
        }
        // Shapes, dtypes and (h0, c0) are validated as for a padded batch; the outputs are its zeros.
        LstmOutput padded = validateAndAllocate(input, h0, c0);
        boolean batchFirst = config.batchFirst();
        int seqLen = input.size(batchFirst ? 1 : 0);
        int batch = input.size(batchFirst ? 0 : 1);
        if (lengths.length != batch) {
            throw new IllegalArgumentException("lengths: expected " + batch + " lengths (the batch size), got "
                    + lengths.length);
        }
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 1 || lengths[b] > seqLen) {
                throw new IllegalArgumentException("lengths[" + b + "]: expected 1.." + seqLen
                        + " (the input's sequence length), got " + lengths[b]);
            }
        }
        PackedBatch p = new PackedBatch(lengths, seqLen, batchFirst);
        Tensor data = p.pack(input);
        Tensor h0s = p.permuteStates(h0, true);
        Tensor c0s = p.permuteStates(c0, true);
        Tensor out = Tensor.zeros(config.dtype(), p.rows, config.numDirections() * config.realHiddenSize());
        Tensor hNs = Tensor.zeros(config.dtype(), padded.hN().shape());
        Tensor cNs = Tensor.zeros(config.dtype(), padded.cN().shape());
        lifecycle.run(() -> engine.forwardPacked(data, p.batchSizes, h0s, c0s, out, hNs, cNs));
        p.unpack(out, padded.output());
        return new LstmOutput(padded.output(), p.permuteStates(hNs, false), p.permuteStates(cNs, false));
    }

    /**
     * A zero state for streaming {@code batch} sequences through this (unidirectional) LSTM.
     *
     * @throws IllegalArgumentException if the LSTM is bidirectional (its reverse direction needs the steps
     *                                  after a chunk) or {@code batch} is not positive
     */
    public LstmState newState(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch: expected a positive size, got " + batch);
        }
        if (config.bidirectional()) {
            throw new IllegalArgumentException("state: streaming needs a unidirectional LSTM; the reverse direction "
                    + "of a chunk would need the steps after it");
        }
        int states = config.numLayers();
        Tensor h0 = Tensor.zeros(config.dtype(), states, batch, config.realHiddenSize());
        Tensor c0 = Tensor.zeros(config.dtype(), states, batch, config.hiddenSize());
        // A device state starts as zeros there (and its first step may skip W_hh h0).
        return new LstmState(this, batch, h0, c0, lifecycle.call(() -> engine.openStream(batch)));
    }

    /**
     * A zero state whose (h, c) are always its Java tensors, for callers that read and write them
     * around each forward (LstmStreamPool gathers and scatters many streams' states through them).
     */
    LstmState newHostState(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch: expected a positive size, got " + batch);
        }
        return new LstmState(this, batch, Tensor.zeros(config.dtype(), config.numLayers(), batch,
                config.realHiddenSize()), Tensor.zeros(config.dtype(), config.numLayers(), batch,
                config.hiddenSize()), null);
    }

    /**
     * A streaming state starting from {@code (h0, c0)}, each (num_layers, B, ...); the tensors are
     * copied.
     */
    public LstmState newState(Tensor h0, Tensor c0) {
        Objects.requireNonNull(h0, "h0");
        Objects.requireNonNull(c0, "c0");
        if (config.bidirectional()) {
            throw new IllegalArgumentException("state: streaming needs a unidirectional LSTM; the reverse direction "
                    + "of a chunk would need the steps after it");
        }
        if (h0.dim() != 3) {
            throw new IllegalArgumentException("h0: expected shape (num_layers, batch, " + config.realHiddenSize()
                    + "), got " + Arrays.toString(h0.shape()));
        }
        int batch = h0.size(1);
        checkState("h0", h0, new int[] {config.numLayers(), batch, config.realHiddenSize()},
                "(num_layers, batch, proj_size or hidden_size)");
        checkState("c0", c0, new int[] {config.numLayers(), batch, config.hiddenSize()},
                "(num_layers, batch, hidden_size)");
        LstmEngine.DeviceStream device = lifecycle.call(() -> engine.openStream(batch));
        if (device != null) {
            try {
                lifecycle.run(() -> device.set(h0, c0));
            } catch (RuntimeException e) {
                device.close();
                throw e;
            }
        }
        return new LstmState(this, batch, copy(h0), copy(c0), device);
    }

    /** Runs a call on a device state under this model's lifecycle (not after close). */
    void onDevice(Runnable call) {
        lifecycle.run(call);
    }

    private static Tensor copy(Tensor t) {
        return t.dtype() == DType.FLOAT32 ? Tensor.of(t.floatData().clone(), t.shape())
                : Tensor.of(t.doubleData().clone(), t.shape());
    }

    /**
     * Streams one chunk: runs {@code chunk} from {@code state} and advances the state to the chunk's
     * last step. Chunks of any sizes, one step included, give what one forward over their
     * concatenation gives.
     *
     * @param chunk (L, N, input_size), or (N, L, input_size) when batch_first, or (L, input_size) for a
     *              state of batch 1
     * @return the chunk's output, (L, N, H_out) or its batch_first / unbatched form
     */
    public Tensor forward(Tensor chunk, LstmState state) {
        Objects.requireNonNull(chunk, "chunk");
        Tensor output = Tensor.zeros(config.dtype(), streamOutputShape(chunk));
        forwardInto(chunk, state, output);
        return output;
    }

    /**
     * {@link #forward(Tensor, LstmState)} into a caller's {@code output} of the chunk's output shape:
     * the latency path of streaming allocates nothing here.
     */
    public void forwardInto(Tensor chunk, LstmState state, Tensor output) {
        Objects.requireNonNull(chunk, "chunk");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(output, "output");
        if (state.owner() != this) {
            throw new IllegalArgumentException("state: belongs to another LSTM (" + state.owner() + ")");
        }
        checkDtype("chunk", chunk);
        int[] outShape = streamOutputShape(chunk);
        boolean batched = chunk.dim() == 3;
        boolean batchFirst = batched && config.batchFirst();
        int seqLen = chunk.size(batched && batchFirst ? 1 : 0);
        int batch = batched ? chunk.size(batchFirst ? 0 : 1) : 1;
        if (batch != state.batch()) {
            throw new IllegalArgumentException("chunk: expected batch " + state.batch() + " (the state's), got "
                    + batch + " in shape " + Arrays.toString(chunk.shape()));
        }
        checkDtype("output", output);
        if (!Arrays.equals(output.shape(), outShape)) {
            throw new IllegalArgumentException("output: expected shape " + Arrays.toString(outShape) + ", got "
                    + Arrays.toString(output.shape()));
        }
        LstmEngine.DeviceStream device = state.device();
        if (device != null) {
            lifecycle.run(() -> device.forward(chunk, seqLen, batch, batchFirst, output));
            return;
        }
        lifecycle.run(() -> engine.forward(chunk, seqLen, batch, batchFirst, state.h(), state.c(), output,
                state.nextH(), state.nextC()));
        state.advance();
    }

    private int[] streamOutputShape(Tensor chunk) {
        if (chunk.dim() != 2 && chunk.dim() != 3) {
            throw new IllegalArgumentException("chunk: expected a 2-D (unbatched) or 3-D (batched) tensor, got "
                    + chunk.dim() + "-D " + Arrays.toString(chunk.shape()));
        }
        if (chunk.size(-1) != config.inputSize()) {
            throw new IllegalArgumentException("chunk has inconsistent input_size: got " + chunk.size(-1)
                    + ", expected " + config.inputSize());
        }
        if (chunk.numel() == 0) {
            throw new IllegalArgumentException("chunk: expected a non-empty sequence and batch, got shape "
                    + Arrays.toString(chunk.shape()));
        }
        int f = config.numDirections() * config.realHiddenSize();
        if (chunk.dim() == 2) {
            return new int[] {chunk.size(0), f};
        }
        return new int[] {chunk.size(0), chunk.size(1), f};
    }

    private void checkDtype(String name, Tensor t) {
        if (t.dtype() != config.dtype()) {
            throw new IllegalArgumentException(name + ": expected dtype " + config.dtype() + ", got " + t.dtype());
        }
    }

    private void checkState(String name, Tensor t, int[] expected, String meaning) {
        checkDtype(name, t);
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException(name + ": expected shape " + Arrays.toString(expected) + " " + meaning
                    + ", got " + Arrays.toString(t.shape()));
        }
    }

    /**
     * A backend-specific extension of this model, in the manner of JDBC's {@code unwrap}. The
     * extensions are interfaces each backend documents; today only NATIVE offers one:
     * {@code dev.lstm4j.nativ.TorchTensors} (zero-copy forward passes on LibTorch tensors). The
     * object returned implements that interface and nothing else: its calls run under this model's
     * lifecycle (a call after {@link #close()} throws {@link IllegalStateException}, and
     * {@code close()} waits for calls in flight), and it never exposes the engine itself.
     *
     * @throws IllegalArgumentException if this model's backend offers no extension of that type
     *                                  (e.g. {@code Object}, {@code AutoCloseable} or the engine's SPI
     *                                  types, which are never handed out)
     */
    public <T> T unwrap(Class<T> type) {
        return Capabilities.unwrap(type, backend, engine, lifecycle, this);
    }

    /** Frees the weights and any native memory. Idempotent; waits for forward calls in flight. */
    @Override
    public void close() {
        lifecycle.close();
    }

    @Override
    public String toString() {
        return config + " on " + backend + " " + device;
    }
}
