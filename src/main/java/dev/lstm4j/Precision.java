package dev.lstm4j;

/**
 * The type weights and activations have where the forward pass runs, as after PyTorch's
 * {@code lstm.to(torch.bfloat16)}. The API's tensors keep the configuration's {@link DType}: with
 * {@link #BFLOAT16} or {@link #FLOAT16} the inputs and weights are float32 in Java, converted on
 * the device, and the results come back as float32.
 *
 * <p>On a CUDA device the NATIVE backend runs {@link #FULL} float32 and float64 on its own scan in
 * IEEE arithmetic (cuDNN cannot be told to avoid TF32 through LibTorch's C ABI), and {@link #PYTORCH},
 * {@link #BFLOAT16} and {@link #FLOAT16} on cuDNN's RNN, PyTorch's own GPU path (falling back to the
 * scan where LibTorch has no cuDNN). The cuDNN path has not yet run on a GPU.
 */
public enum Precision {
    /** The configuration's dtype everywhere (the default). */
    FULL("full"),
    /** {@code torch.bfloat16} storage and GEMMs, float32 accumulation; NATIVE on CUDA, dtype float32. */
    BFLOAT16("bfloat16"),
    /** {@code torch.float16} storage and GEMMs, float32 accumulation; NATIVE on CUDA, dtype float32. */
    FLOAT16("float16"),
    /**
     * float32 data computed as PyTorch's {@code nn.LSTM} computes them on this GPU: cuDNN with
     * PyTorch's default math ({@code torch.backends.cudnn.allow_tf32}: TF32 GEMMs on Ampere and
     * later, about 10 significant bits); NATIVE on CUDA, dtype float32.
     */
    PYTORCH("pytorch");

    private final String torchName;

    Precision(String torchName) {
        this.torchName = torchName;
    }

    /** Parses {@code full}, {@code bfloat16}, {@code float16} or {@code pytorch}. */
    public static Precision fromName(String name) {
        for (Precision p : values()) {
            if (p.torchName.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("precision: expected full, bfloat16, float16 or pytorch, got '" + name + "'");
    }

    @Override
    public String toString() {
        return torchName;
    }
}
