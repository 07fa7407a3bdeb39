package dev.lstm4j;

/**
 * The type weights and activations have where the forward pass runs, as after PyTorch's
 * {@code lstm.to(torch.bfloat16)}. The API's tensors keep the configuration's {@link DType}: with
 * {@link #BFLOAT16} or {@link #FLOAT16} the inputs and weights are float32 in Java, converted on
 * the device, and the results come back as float32.
 */
public enum Precision {
    /** The configuration's dtype everywhere (the default). */
    FULL("full"),
    /** {@code torch.bfloat16} storage and GEMMs, float32 accumulation; NATIVE on CUDA, dtype float32. */
    BFLOAT16("bfloat16"),
    /** {@code torch.float16} storage and GEMMs, float32 accumulation; NATIVE on CUDA, dtype float32. */
    FLOAT16("float16");

    private final String torchName;

    Precision(String torchName) {
        this.torchName = torchName;
    }

    /** Parses {@code full}, {@code bfloat16} or {@code float16}. */
    public static Precision fromName(String name) {
        for (Precision p : values()) {
            if (p.torchName.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("precision: expected full, bfloat16 or float16, got '" + name + "'");
    }

    @Override
    public String toString() {
        return torchName;
    }
}
