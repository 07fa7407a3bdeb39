package dev.lstm4j.nativ;

import org.bytedeco.pytorch.Tensor;

/**
 * Zero-copy forward passes for callers that already hold LibTorch tensors (the JavaCPP presets'
 * {@link Tensor}), e.g. on the GPU: nothing is copied to or from Java arrays, and the results stay
 * on the model's device. Get it from a NATIVE model: {@code lstm.unwrap(TorchTensors.class)}.
 *
 * <pre>{@code
 * try (TorchTensors.Output out = lstm.unwrap(TorchTensors.class).forward(x, null, null)) {
 *     Tensor y = out.output();   // on the model's device; valid until out is closed
 * }
 * }</pre>
 */
public interface TorchTensors {
    /**
     * {@code forward(input, (h0, c0))} on tensors of the model's dtype, on its device, contiguous:
     * input (L, N, input_size), or (N, L, input_size) when batch_first; h0, c0 (D * num_layers, N, ...)
     * or null for zeros.
     *
     * @throws IllegalArgumentException naming the tensor that has the wrong shape, dtype or device
     * @throws IllegalStateException    if the model is closed
     */
    Output forward(Tensor input, Tensor h0, Tensor c0);

    /** The results, owned by the caller: {@link #close()} releases them. */
    record Output(Tensor output, Tensor hN, Tensor cN) implements AutoCloseable {
        @Override
        public void close() {
            output.close();
            hN.close();
            cN.close();
        }
    }
}
