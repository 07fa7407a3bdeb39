package dev.lstm4j;

import dev.lstm4j.spi.LstmCellEngine;
import java.util.Arrays;
import java.util.Objects;

/**
 * A {@code torch.nn.LSTMCell} with fixed weights ({@code weight_ih}, {@code weight_hh}, {@code bias_ih},
 * {@code bias_hh}) on one {@link Backend} and {@link Device}. Thread-safe like {@link Lstm}; close it.
 */
public final class LstmCell implements AutoCloseable {
    private final LstmCellConfig config;
    private final Backend backend;
    private final Device device;
    private final LstmCellEngine engine;
    private final Lifecycle lifecycle;
    private final int threads;

    private LstmCell(LstmCellConfig config, Backend backend, Device device, LstmCellEngine engine, int threads) {
        this.config = config;
        this.backend = backend;
        this.device = device;
        this.engine = engine;
        this.threads = threads;
        this.lifecycle = new Lifecycle("LstmCell", engine);
    }

    /**
     * A cell on the CPU, on {@link Backend#NATIVE} where its native library loads and on {@link Backend#JAVA}
     * where it does not, as {@link Lstm#create(LstmConfig, StateDict)} chooses: {@link #backend()} tells
     * which, one log line per process and reason says why.
     *
     * @throws IllegalArgumentException if the weights do not fit {@code config} (all problems listed)
     */
    public static LstmCell create(LstmCellConfig config, StateDict weights) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        return create(config, weights, Engines.defaultBackend(), Device.cpu());
    }

    /**
     * A cell on the given backend and device.
     *
     * @throws IllegalArgumentException if the weights do not fit {@code config} (all problems listed)
     * @throws IllegalStateException    if the backend cannot run here (the message says why); an explicit
     *                                  backend is never replaced by another
     */
    public static LstmCell create(LstmCellConfig config, StateDict weights, Backend backend, Device device) {
        return create(config, weights, backend, device, ModelOptions.defaults());
    }

    /**
     * A cell on the given backend and device, run as {@code options} say (its thread count: see
     * {@link ModelOptions}).
     *
     * @throws IllegalArgumentException if the weights do not fit {@code config} (all problems listed),
     *                                  or the default thread count's system property is malformed
     * @throws IllegalStateException    if the backend cannot run here
     */
    public static LstmCell create(LstmCellConfig config, StateDict weights, Backend backend, Device device,
            ModelOptions options) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(device, "device");
        weights.checkMatches(config.parameterShapes(), config.dtype(), config.toString());
        int threads = options.threads();
        LstmCellEngine engine = Engines.available(backend).createCell(config, weights, device, threads);
        return new LstmCell(config, backend, device, engine, threads);
    }

    /** The configuration. */
    public LstmCellConfig config() {
        return config;
    }

    /** The backend. */
    public Backend backend() {
        return backend;
    }

    /** The device. */
    public Device device() {
        return device;
    }

    /** The most threads a forward uses, the caller included, as given at creation (see {@link ModelOptions}). */
    public int threads() {
        return threads;
    }

    /** {@code forward(input)}: zero state. */
    public LstmCellOutput forward(Tensor input) {
        return forward(input, null, null);
    }

    /**
     * {@code forward(input, (h0, c0))}.
     *
     * @param input (N, input_size) or (input_size) unbatched
     * @param h0    (N, hidden_size) or (hidden_size); null for zeros
     * @param c0    like h0
     * @throws IllegalArgumentException naming the parameter and the expected and actual shapes
     * @throws IllegalStateException    if this cell is closed
     */
    public LstmCellOutput forward(Tensor input, Tensor h0, Tensor c0) {
        Objects.requireNonNull(input, "input");
        checkDtype("input", input);
        if (input.dim() != 1 && input.dim() != 2) {
            throw new IllegalArgumentException("input: expected a 1-D (unbatched) or 2-D (batched) tensor, got "
                    + input.dim() + "-D " + Arrays.toString(input.shape()));
        }
        if (input.size(-1) != config.inputSize()) {
            throw new IllegalArgumentException("input has inconsistent input_size: got " + input.size(-1)
                    + ", expected " + config.inputSize());
        }
        boolean batched = input.dim() == 2;
        int batch = batched ? input.size(0) : 1;
        if (batch == 0) {
            throw new IllegalArgumentException("input: expected a non-empty batch, got shape "
                    + Arrays.toString(input.shape()));
        }
        int[] stateShape = batched ? new int[] {batch, config.hiddenSize()} : new int[] {config.hiddenSize()};
        if ((h0 == null) != (c0 == null)) {
            throw new IllegalArgumentException("(h0, c0): pass both or neither, got " + (h0 == null ? "only c0" : "only h0"));
        }
        if (h0 != null) {
            checkState("h0", h0, stateShape);
            checkState("c0", c0, stateShape);
        }
        Tensor h1 = Tensor.zeros(config.dtype(), stateShape);
        Tensor c1 = Tensor.zeros(config.dtype(), stateShape);
        lifecycle.run(() -> engine.forward(input, batch, h0, c0, h1, c1));
        return new LstmCellOutput(h1, c1);
    }

    private void checkDtype(String name, Tensor t) {
        if (t.dtype() != config.dtype()) {
            throw new IllegalArgumentException(name + ": expected dtype " + config.dtype() + ", got " + t.dtype());
        }
    }

    private void checkState(String name, Tensor t, int[] expected) {
        checkDtype(name, t);
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException(name + ": expected shape " + Arrays.toString(expected)
                    + " (batch, hidden_size), got " + Arrays.toString(t.shape()));
        }
    }

    /** Frees native memory. Idempotent; waits for forward calls in flight. */
    @Override
    public void close() {
        lifecycle.close();
    }

    @Override
    public String toString() {
        return config + " on " + backend + " " + device;
    }
}
