package dev.lstm4j.spi;

import dev.lstm4j.Tensor;

/** One backend's prepared {@code torch.nn.LSTMCell}; arguments arrive validated, as for {@link LstmEngine}. */
public interface LstmCellEngine extends AutoCloseable {
    /**
     * Runs one step.
     *
     * @param input (B, I) data
     * @param h0    (B, H) or {@code null} for zeros
     * @param c0    (B, H) or {@code null} for zeros
     * @param h1    to fill: (B, H)
     * @param c1    to fill: (B, H)
     */
    void forward(Tensor input, int batch, Tensor h0, Tensor c0, Tensor h1, Tensor c1);

    /** Frees native memory, if any. Called once. */
    @Override
    void close();
}
