package dev.lstm4j;

/**
 * Which implementation runs the forward passes. All give PyTorch's results to float rounding.
 *
 * <p>The API itself links none of them: a backend's classes are loaded only when it is chosen,
 * so a class path without JavaCPP or LibTorch still works for backends that need neither.
 */
public enum Backend {
    /** lstm4j's C++ LSTM over LibTorch's stable C ABI (GEMMs by LibTorch, fused gates by us). */
    NATIVE("dev.lstm4j.nativ.NativeEngineProvider", "dev.lstm4j.nativ.TorchTensors"),
    /** LibTorch's own {@code torch::lstm} / {@code torch::lstm_cell} through the JavaCPP presets: the reference. */
    LIBTORCH("dev.lstm4j.libtorch.LibTorchEngineProvider"),
    /** Pure Java: no native code at all; the same results, for platforms and sandboxes without JNI. */
    JAVA("dev.lstm4j.jvm.JavaEngineProvider");

    private final String providerClass;
    private final java.util.List<String> extensions;

    Backend(String providerClass, String... extensions) {
        this.providerClass = providerClass;
        this.extensions = java.util.List.of(extensions);
    }

    /**
     * Names of the extension interfaces {@link Lstm#unwrap} hands out for this backend (NATIVE:
     * {@code dev.lstm4j.nativ.TorchTensors}; the others: none).
     */
    public java.util.List<String> extensions() {
        return extensions;
    }

    /** Name of the class implementing {@link dev.lstm4j.spi.EngineProvider} for this backend. */
    public String providerClass() {
        return providerClass;
    }

    /**
     * Number of CUDA devices this backend can run on in this process: 0 for the CPU-only backends,
     * and for NATIVE when no CUDA LibTorch, driver or GPU is found (see {@link #cudaUnavailableReason()}).
     * Loads the backend's native code if it has any.
     *
     * @throws IllegalStateException if the backend is not available here
     */
    public int cudaDeviceCount() {
        return Engines.available(this).cudaDeviceCount();
    }

    /**
     * The machine's float32 FMA peak with {@code threads} threads as this backend's native code
     * measures it (about 0.1 s, register-resident FMA chains on the widest vector unit), in GFLOP/s;
     * {@code NaN} for backends without native code.
     */
    public double fmaPeakGflops(int threads) {
        return Engines.available(this).fmaPeakGflops(threads);
    }

    /**
     * Whether this backend can run here: its classes are on the class path and its native code, if any,
     * loads (which this call does, once per process). Never throws; {@link #unavailableReason()} says why not.
     */
    public boolean isAvailable() {
        return Engines.unavailableReason(this) == null;
    }

    /** Why {@link #isAvailable()} is false (the load failure, with its cause), or empty when it is true. */
    public String unavailableReason() {
        String reason = Engines.unavailableReason(this);
        return reason == null ? "" : reason;
    }

    /** Why {@link #cudaDeviceCount()} is 0 (empty when it is not). */
    public String cudaUnavailableReason() {
        return cudaDeviceCount() > 0 ? "" : Engines.available(this).cudaUnavailableReason();
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
