package dev.lstm4j;

import dev.lstm4j.spi.LstmEngine;

/**
 * The recurrent state of one {@link Lstm} between calls, for streaming: {@code h} (D * num_layers, B,
 * H_out) and {@code c} (D * num_layers, B, hidden_size), every layer's. Feeding a long input in
 * chunks of any sizes through {@link Lstm#forward(Tensor, LstmState)} gives exactly what one forward
 * over the whole sequence gives.
 *
 * <p>A state is made by {@link Lstm#newState(int)} or {@link Lstm#newState(Tensor, Tensor)} and works
 * with that model only. It owns two pairs of buffers and flips between them, so advancing it
 * allocates nothing. Not thread-safe: one stream, one state (the model itself may serve many).
 *
 * <p>For a model on a CUDA device (NATIVE backend, full precision) the state lives on the device, so a
 * chunk costs its input and output transfers only; {@link #h()} and {@link #c()} then copy it back.
 * {@link #close()} frees that device memory at once (otherwise it is freed when the state becomes
 * unreachable); for a state in Java memory it does nothing. Not yet run on a GPU: tested on the
 * CPU through the device scan ({@code -Dlstm4j.native.cpuAlgorithm=device}).
 */
public final class LstmState implements AutoCloseable {
    private final Lstm owner;
    private final int batch;
    private final Tensor[] h;
    private final Tensor[] c;
    private int current;
    /** The state on the engine's device, or null when h and c above are the state. */
    private final LstmEngine.DeviceStream device;

    LstmState(Lstm owner, int batch, Tensor h0, Tensor c0, LstmEngine.DeviceStream device) {
        this.owner = owner;
        this.batch = batch;
        this.device = device;
        this.h = new Tensor[] {h0, Tensor.zeros(h0.dtype(), h0.shape())};
        this.c = new Tensor[] {c0, Tensor.zeros(c0.dtype(), c0.shape())};
    }

    /** The batch size this state streams. */
    public int batch() {
        return batch;
    }

    /** The current h, (D * num_layers, B, H_out); valid until the next forward with this state. */
    public Tensor h() {
        fetch();
        return h[current];
    }

    /** The current c, (D * num_layers, B, hidden_size); valid until the next forward with this state. */
    public Tensor c() {
        fetch();
        return c[current];
    }

    private void fetch() {
        if (device != null) {
            owner.onDevice(() -> device.get(h[current], c[current]));
        }
    }

    /** Back to zeros, as at the start of a new stream. */
    public void reset() {
        h[current] = Tensor.zeros(h[current].dtype(), h[current].shape());
        c[current] = Tensor.zeros(c[current].dtype(), c[current].shape());
        if (device != null) {
            owner.onDevice(() -> device.set(h[current], c[current]));
        }
    }

    /** Frees the state's device memory, if it has any; the state cannot be used afterwards then. */
    @Override
    public void close() {
        if (device != null) {
            device.close();
        }
    }

    LstmEngine.DeviceStream device() {
        return device;
    }

    Lstm owner() {
        return owner;
    }

    Tensor nextH() {
        return h[1 - current];
    }

    Tensor nextC() {
        return c[1 - current];
    }

    void advance() {
        current = 1 - current;
    }
}
