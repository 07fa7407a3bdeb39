package dev.lstm4j;

/** Element type of a {@link Tensor}, as PyTorch names it. */
public enum DType {
    /** {@code torch.float32}. */
    FLOAT32(4, "float32"),
    /** {@code torch.float64}. */
    FLOAT64(8, "float64");

    private final int byteSize;
    private final String torchName;

    DType(int byteSize, String torchName) {
        this.byteSize = byteSize;
        this.torchName = torchName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** PyTorch's spelling, e.g. {@code float32}. */
    public String torchName() {
        return torchName;
    }

    /** Parses PyTorch's spelling ({@code float32}, {@code float64}). */
    public static DType fromTorchName(String name) {
        for (DType t : values()) {
            if (t.torchName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("dtype: expected float32 or float64, got '" + name + "'");
    }

    @Override
    public String toString() {
        return torchName;
    }
}
