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
 * (each call works in its own scratch memory), and {@link #close()} waits for calls in flight.
 */
public final class Lstm implements AutoCloseable {
    private final LstmConfig config;
    private final Backend backend;
    private final Device device;
    private final LstmEngine engine;
    private final Lifecycle lifecycle;

    private Lstm(LstmConfig config, Backend backend, Device device, LstmEngine engine) {
        this.config = config;
        this.backend = backend;
        this.device = device;
        this.engine = engine;
        this.lifecycle = new Lifecycle("Lstm", engine);
    }

    /** An LSTM on the {@link Backend#NATIVE} backend, on the CPU. */
    public static Lstm create(LstmConfig config, StateDict weights) {
        return create(config, weights, Backend.NATIVE, Device.cpu());
    }

    /**
     * An LSTM on the given backend and device.
     *
     * @throws IllegalArgumentException if the weights do not fit {@code config} (all problems listed)
     * @throws IllegalStateException    if the backend cannot run here (the message says why)
     */
    public static Lstm create(LstmConfig config, StateDict weights, Backend backend, Device device) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(device, "device");
        weights.checkMatches(config.parameterShapes(), config.dtype(), config.toString());
        if (config.precision() != Precision.FULL && (backend != Backend.NATIVE || device.isCpu())) {
            throw new IllegalArgumentException("precision: " + config.precision()
                    + " runs on the NATIVE backend on a CUDA device, got " + backend + " on " + device);
        }
        LstmEngine engine = Engines.available(backend).createLstm(config, weights, device);
        return new Lstm(config, backend, device, engine);
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
        // Shapes, dtypes and (h0, c0) are validated as for a padded batch; the outputs are its zeros.
        LstmOutput padded = validateAndAllocate(input, h0, c0);
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
