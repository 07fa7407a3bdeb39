package dev.lstm4j;

/**
 * Which implementation runs the forward passes. All give PyTorch's results to float rounding.
 *
 * <p>The API itself links none of them: a backend's classes are loaded only when it is chosen,
 * so a class path without JavaCPP or LibTorch still works for backends that need neither.
 */
public enum Backend {
    /** lstm4j's C++ LSTM over LibTorch's stable C ABI (GEMMs by LibTorch, fused gates by us). */
    NATIVE("dev.lstm4j.nativ.NativeEngineProvider"),
    /** LibTorch's own {@code torch::lstm} / {@code torch::lstm_cell} through the JavaCPP presets: the reference. */
    LIBTORCH("dev.lstm4j.libtorch.LibTorchEngineProvider"),
    /** Pure Java: no native code at all; the same results, for platforms and sandboxes without JNI. */
    JAVA("dev.lstm4j.jvm.JavaEngineProvider");

    private final String providerClass;

    Backend(String providerClass) {
        this.providerClass = providerClass;
    }

    /** Name of the class implementing {@link dev.lstm4j.spi.EngineProvider} for this backend. */
    public String providerClass() {
        return providerClass;
    }

    /** Parses a lower- or upper-case backend name ({@code native}, {@code libtorch}). */
    public static Backend parse(String name) {
        for (Backend b : values()) {
            if (b.name().equalsIgnoreCase(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("backend: expected one of native, libtorch, java, got '" + name + "'");
    }
}
