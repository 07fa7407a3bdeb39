package dev.lstm4j.spi;

import dev.lstm4j.Tensor;

/**
 * One backend's prepared {@code torch.nn.LSTM}. The API validates every argument before calling it,
 * so an engine sees only consistent shapes: 3-D semantics (an unbatched input arrives as a batch of
 * one), and outputs already allocated in the caller's shapes, to be filled in.
 */
public interface LstmEngine extends AutoCloseable {
    /**
     * Runs one forward pass.
     *
     * @param input      (T, B, I), or (B, T, I) when {@code batchFirst}, flat C-order data
     * @param h0         (D * L, B, H_out) or {@code null} for zeros
     * @param c0         (D * L, B, H) or {@code null} for zeros
     * @param output     to fill: (T, B, D * H_out), or (B, T, D * H_out) when {@code batchFirst}
     * @param hN         to fill: (D * L, B, H_out)
     * @param cN         to fill: (D * L, B, H)
     */
    void forward(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0, Tensor output,
            Tensor hN, Tensor cN);

    /**
     * Runs one forward pass over a packed batch of variable-length sequences, as
     * {@code torch.nn.utils.rnn.PackedSequence} holds it: sequences sorted by length, longest first;
     * step t covers the first {@code batchSizes[t]} of them (non-increasing, {@code batchSizes[0] = B},
     * every entry positive).
     *
     * @param data       (sum of batchSizes, I): the rows of step 0, then of step 1, ...
     * @param batchSizes sequences running at each step
     * @param h0         (D * L, B, H_out) in the sorted order, or {@code null} for zeros
     * @param c0         (D * L, B, H) in the sorted order, or {@code null} for zeros
     * @param output     to fill: (sum of batchSizes, D * H_out), packed like {@code data}
     * @param hN         to fill: (D * L, B, H_out), each sequence's state at its own last step
     * @param cN         to fill: (D * L, B, H)
     */
    void forwardPacked(Tensor data, int[] batchSizes, Tensor h0, Tensor c0, Tensor output, Tensor hN, Tensor cN);

    /**
     * A streaming state kept on this engine's device, zero, for {@code batch} sequences of a
     * unidirectional LSTM; or {@code null} (the default) when the state lives in Java arrays.
     */
    default DeviceStream openStream(int batch) {
        return null;
    }

    /**
     * A streaming state an engine keeps on its device (see {@link #openStream}): a chunk then costs
     * only its input and output transfers. Not thread-safe (one stream, one state).
     */
    interface DeviceStream extends AutoCloseable {
        /** The state &lt;- (h (L, B, H_out), c (L, B, H)). */
        void set(Tensor h, Tensor c);

        /** (h, c) &lt;- the state. */
        void get(Tensor h, Tensor c);

        /** Runs a chunk, (T, B, I) or (B, T, I) when {@code batchFirst}, and advances the state. */
        void forward(Tensor chunk, int seqLen, int batch, boolean batchFirst, Tensor output);

        /** Frees the device memory; idempotent. */
        @Override
        void close();
    }

    /** Frees native memory, if any. Called once. */
    @Override
    void close();
}
