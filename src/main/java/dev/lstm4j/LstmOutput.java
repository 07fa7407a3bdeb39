package dev.lstm4j;

/**
 * What {@code torch.nn.LSTM.forward} returns: {@code output, (h_n, c_n)}.
 *
 * @param output (L, N, D * H_out), or (N, L, D * H_out) when batch_first, or (L, D * H_out) unbatched
 * @param hN     h_n: (D * num_layers, N, H_out), or (D * num_layers, H_out) unbatched
 * @param cN     c_n: (D * num_layers, N, hidden_size), or (D * num_layers, hidden_size) unbatched
 */
public record LstmOutput(Tensor output, Tensor hN, Tensor cN) {
}
