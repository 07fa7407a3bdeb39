package dev.lstm4j;

/**
 * What {@code torch.nn.LSTMCell.forward} returns: {@code (h_1, c_1)}, each (N, hidden_size) or (hidden_size).
 *
 * @param h1 the next hidden state
 * @param c1 the next cell state
 */
public record LstmCellOutput(Tensor h1, Tensor c1) {
}
