package dev.lstm4j.spi;

import dev.lstm4j.Device;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;

/**
 * Creates a backend's engines. Implementations have a public no-argument constructor; the API
 * instantiates them reflectively so that it links no backend's classes.
 */
public interface EngineProvider {
    /**
     * Whether the backend can run on this machine; if not, {@link #unavailableReason()} says why.
     * Must not throw.
     */
    boolean isAvailable();

    /** Why {@link #isAvailable()} is false (null when it is true). */
    String unavailableReason();

    /** Prepares an LSTM; {@code weights} already match {@code config}. */
    LstmEngine createLstm(LstmConfig config, StateDict weights, Device device);

    /**
     * Prepares an LSTM whose forward passes use at most {@code threads} threads, the caller
     * included ({@link dev.lstm4j.ModelOptions#threads()}). The default ignores the count, for
     * providers that have no threads of their own.
     */
    default LstmEngine createLstm(LstmConfig config, StateDict weights, Device device, int threads) {
        return createLstm(config, weights, device);
    }

    /**
     * Number of CUDA devices this backend can run on here: 0 (the default) for a CPU-only backend, or
     * when CUDA cannot be loaded.
     */
    default int cudaDeviceCount() {
        return 0;
    }

    /**
     * The machine's float32 FMA peak with {@code threads} threads, measured by this backend's code, in
     * GFLOP/s; {@code NaN} (the default) if it has no probe.
     */
    default double fmaPeakGflops(int threads) {
        return Double.NaN;
    }

    /** Why this backend cannot run on CUDA here, for messages; the default says it is CPU-only. */
    default String cudaUnavailableReason() {
        return "this backend runs on cpu only";
    }

    /** Prepares an LSTM cell; {@code weights} already match {@code config}. */
    LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device);

    /** Prepares an LSTM cell using at most {@code threads} threads; see the LSTM's. */
    default LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device, int threads) {
        return createCell(config, weights, device);
    }
}
