package dev.lstm4j;

/**
 * The recurrent state of one {@link Lstm} between calls, for streaming: {@code h} (D * num_layers, B,
 * H_out) and {@code c} (D * num_layers, B, hidden_size), every layer's. Feeding a long input in
 * chunks of any sizes through {@link Lstm#forward(Tensor, LstmState)} gives exactly what one forward
 * over the whole sequence gives.
 *
 * <p>A state is made by {@link Lstm#newState(int)} or {@link Lstm#newState(Tensor, Tensor)} and works
 * with that model only. It owns two pairs of buffers and flips between them, so advancing it
 * allocates nothing. Not thread-safe: one stream, one state (the model itself may serve many).
 */
public final class LstmState {
    private final Lstm owner;
    private final int batch;
    private final Tensor[] h;
    private final Tensor[] c;
    private int current;

    LstmState(Lstm owner, int batch, Tensor h0, Tensor c0) {
        this.owner = owner;
        this.batch = batch;
        this.h = new Tensor[] {h0, Tensor.zeros(h0.dtype(), h0.shape())};
        this.c = new Tensor[] {c0, Tensor.zeros(c0.dtype(), c0.shape())};
    }

    /** The batch size this state streams. */
    public int batch() {
        return batch;
    }

    /** The current h, (D * num_layers, B, H_out); valid until the next forward with this state. */
    public Tensor h() {
        return h[current];
    }

    /** The current c, (D * num_layers, B, hidden_size); valid until the next forward with this state. */
    public Tensor c() {
        return c[current];
    }

    /** Back to zeros, as at the start of a new stream. */
    public void reset() {
        h[current] = Tensor.zeros(h[current].dtype(), h[current].shape());
        c[current] = Tensor.zeros(c[current].dtype(), c[current].shape());
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
