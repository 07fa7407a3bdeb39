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

    /** Frees native memory, if any. Called once. */
    @Override
    void close();
}
