package dev.lstm4j.nativ;

import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.nativ.binding.Lstm4jNative;
import dev.lstm4j.nativ.binding.NativeCalls;
import dev.lstm4j.nativ.binding.NativeCodes;
import dev.lstm4j.nativ.binding.NativeErrors;
import dev.lstm4j.nativ.binding.NativeLstm;
import dev.lstm4j.nativ.binding.NativeLstmCell;
import dev.lstm4j.spi.LoadingEngineProvider;
import dev.lstm4j.spi.LstmCellEngine;
import dev.lstm4j.spi.LstmEngine;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.Pointer;

/**
 * The {@link dev.lstm4j.Backend#NATIVE} backend: lstm4j's C++ LSTM through JavaCPP. Every native
 * failure passes through {@link NativeErrors#translate}: invalid input becomes an
 * {@link IllegalArgumentException}, anything else a {@link dev.lstm4j.NativeException}.
 */
public final class NativeEngineProvider extends LoadingEngineProvider {
    /** Loads LibTorch and lstm4j's JNI library; remembers why if that fails. */
    public NativeEngineProvider() {
        super("lstm4j's native library", Lstm4jNative::load);
    }

    @Override
    public double fmaPeakGflops(int threads) {
        return NativeLstm.fma_peak_gflops(threads);
    }

    @Override
    public int cudaDeviceCount() {
        return NativeLstm.cuda_device_count();
    }

    @Override
    public String cudaUnavailableReason() {
        return "CUDA is not available: " + NativeLstm.cuda_unavailable_reason();
    }

    /** Checks before any native object exists that the device can be used, or says why not. */
    private static void checkDevice(Device device, Precision precision) {
        if (device.isCpu()) {
            if (precision != Precision.FULL) {
                throw new IllegalArgumentException("precision: " + precision + " runs on CUDA only, got device cpu");
            }
            return;
        }
        int count = NativeLstm.cuda_device_count();
        if (count == 0) {
            throw new IllegalArgumentException("device: " + device + " cannot be used: CUDA is not available: "
                    + NativeLstm.cuda_unavailable_reason());
        }
        if (device.index() >= count) {
            throw new IllegalArgumentException("device: " + device + " does not exist: expected cuda:0 to cuda:"
                    + (count - 1) + " (" + count + " CUDA device(s) visible)");
        }
    }

    private static NativeCodes.DeviceType deviceType(Device device) {
        return device.isCpu() ? NativeCodes.DeviceType.CPU : NativeCodes.DeviceType.CUDA;
    }

    /** The native dtype: the config's dtype, or the 16-bit precision it runs in. */
    private static NativeCodes.Dtype dtype(DType dtype, Precision precision) {
        switch (precision) {
            case BFLOAT16:
                return NativeCodes.Dtype.BFLOAT16;
            case FLOAT16:
                return NativeCodes.Dtype.FLOAT16;
            default:
                return dtype == DType.FLOAT64 ? NativeCodes.Dtype.FLOAT64 : NativeCodes.Dtype.FLOAT32;
        }
    }

    @Override
    public LstmEngine createLstm(LstmConfig config, StateDict weights, Device device) {
        return createLstm(config, weights, device, dev.lstm4j.ModelOptions.defaultThreads());
    }

    @Override
    public LstmEngine createLstm(LstmConfig config, StateDict weights, Device device, int threads) {
        checkDevice(device, config.precision());
        NativeState<NativeLstm> state;
        try {
            state = new NativeState<>(new NativeLstm(config.inputSize(), config.hiddenSize(), config.numLayers(),
                    config.bias(), config.bidirectional(), config.projSize(), dtype(config.dtype(), config.precision()),
                    deviceType(device), device.index()), NativeCalls::destroy, config.dtype());
        } catch (RuntimeException e) {
            throw NativeErrors.translate(e);
        }
        try {
            NativeLstm lstm = state.model;
            lstm.setCpuAlgorithm(algorithm(config.precision(), device));
            lstm.set_num_threads(threads);
            setParameters(weights, config.dtype(), (name, p, n) -> NativeCalls.set_parameter(lstm, name, p, n));
            lstm.prepare();
        } catch (RuntimeException e) {
            state.run();
            throw NativeErrors.translate(e);
        }
        return new NativeLstmEngine(state, config.batchFirst());
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device) {
        return createCell(config, weights, device, dev.lstm4j.ModelOptions.defaultThreads());
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device, int threads) {
        checkDevice(device, Precision.FULL);
        NativeState<NativeLstmCell> state;
        try {
            state = new NativeState<>(new NativeLstmCell(config.inputSize(), config.hiddenSize(), config.bias(),
                    dtype(config.dtype(), Precision.FULL), deviceType(device), device.index()), NativeCalls::destroy,
                    config.dtype());
        } catch (RuntimeException e) {
            throw NativeErrors.translate(e);
        }
        try {
            NativeLstmCell cell = state.model;
            cell.set_num_threads(threads);
            setParameters(weights, config.dtype(),
                    (name, p, n) -> NativeCalls.set_cell_parameter(cell, name, p, n));
            cell.prepare();
        } catch (RuntimeException e) {
            state.run();
            throw NativeErrors.translate(e);
        }
        return new NativeLstmCellEngine(state);
    }

    /**
     * cuDNN for the precisions whose numerics are PyTorch's own on a GPU ({@code pytorch}, bfloat16,
     * float16) unless {@code lstm4j.native.cpuAlgorithm=device} asks for the device scan (to compare
     * them); otherwise {@link #cpuAlgorithm()}.
     */
    static NativeCodes.Algorithm algorithm(Precision precision, Device device) {
        NativeCodes.Algorithm chosen = cpuAlgorithm();
        if (!device.isCpu() && precision != Precision.FULL && chosen != NativeCodes.Algorithm.DEVICE) {
            return NativeCodes.Algorithm.CUDNN;
        }
        return chosen;
    }

    /**
     * The CPU algorithm, from the system property {@code lstm4j.native.cpuAlgorithm}: {@code auto}
     * (the default: {@code team}), {@code team} (our GEMM and gate kernels, each step split over the
     * process-wide team; float64 on a plain batch-invariant loop), {@code scan} (LibTorch's GEMMs
     * per step + our gate kernel), {@code onednn} (oneDNN's fused LSTM layer, what LibTorch's own lstm
     * runs; float32 without a projection) or {@code device} (the scan CUDA devices run, on LibTorch's
     * CPU operations). For measurements and workarounds.
     */
    static NativeCodes.Algorithm cpuAlgorithm() {
        String v = System.getProperty("lstm4j.native.cpuAlgorithm", "auto");
        for (NativeCodes.Algorithm a : NativeCodes.Algorithm.values()) {
            if (a != NativeCodes.Algorithm.CUDNN && a.name().equalsIgnoreCase(v)) {
                return a;
            }
        }
        throw new IllegalArgumentException(
                "lstm4j.native.cpuAlgorithm: expected auto, team, scan, onednn or device, got '" + v + "'");
    }

    /** Hands every tensor of {@code weights} to the native object, through one staging buffer. */
    private static void setParameters(StateDict weights, DType dtype, ParameterSink sink) {
        try (Staging staging = new Staging(dtype)) {
            for (Map.Entry<String, Tensor> e : weights.asMap().entrySet()) {
                sink.set(e.getKey(), staging.in(Staging.INPUT, e.getValue()), e.getValue().numel());
            }
        }
    }

    /** Where {@link #setParameters} hands each parameter: a model's or a cell's set_parameter. */
    private interface ParameterSink {
        void set(String name, Pointer data, long numel);
    }
}
