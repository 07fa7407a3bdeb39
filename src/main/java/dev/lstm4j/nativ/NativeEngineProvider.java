package dev.lstm4j.nativ;

import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.nativ.binding.Lstm4jNative;
import dev.lstm4j.nativ.binding.NativeLstm;
import dev.lstm4j.nativ.binding.NativeLstmCell;
import dev.lstm4j.spi.LoadingEngineProvider;
import dev.lstm4j.spi.LstmCellEngine;
import dev.lstm4j.spi.LstmEngine;
import java.util.Map;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import java.util.function.BiConsumer;

/** The {@link dev.lstm4j.Backend#NATIVE} backend: lstm4j's C++ LSTM through JavaCPP. */
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

    private static int deviceType(Device device) {
        return device.isCpu() ? 0 : 1;
    }

    /** The native dtype code: the config's dtype, or the 16-bit precision it runs in. */
    private static int dtypeCode(DType dtype, Precision precision) {
        switch (precision) {
            case BFLOAT16:
                return 2;
            case FLOAT16:
                return 3;
            default:
                return dtypeCode(dtype);
        }
    }

    @Override
    public LstmEngine createLstm(LstmConfig config, StateDict weights, Device device) {
        checkDevice(device, config.precision());
        NativeLstm lstm = new NativeLstm(config.inputSize(), config.hiddenSize(), config.numLayers(), config.bias(),
                config.bidirectional(), config.projSize(), dtypeCode(config.dtype(), config.precision()),
                deviceType(device), device.index());
        try {
            lstm.set_cpu_algorithm(cpuAlgorithm());
            setParameters(weights, (name, t) -> lstm.set_parameter(name, t, t.length),
                    (name, t) -> lstm.set_parameter(name, t, t.length));
            lstm.prepare();
        } catch (RuntimeException e) {
            lstm.close();
            throw e;
        }
        return new NativeLstmEngine(lstm, config.batchFirst());
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device) {
        checkDevice(device, Precision.FULL);
        NativeLstmCell cell = new NativeLstmCell(config.inputSize(), config.hiddenSize(), config.bias(),
                dtypeCode(config.dtype()), deviceType(device), device.index());
        try {
            setParameters(weights, (name, t) -> cell.set_parameter(name, t, t.length),
                    (name, t) -> cell.set_parameter(name, t, t.length));
            cell.prepare();
        } catch (RuntimeException e) {
            cell.close();
            throw e;
        }
        return new NativeLstmCellEngine(cell);
    }

    /**
     * The float32 CPU algorithm, from the system property {@code lstm4j.native.cpuAlgorithm}:
     * {@code auto} (default, the same as {@code team}), {@code team} (our GEMM and gate kernels, each
     * step split over the engine's own threads), {@code scan} (LibTorch's GEMMs per step + our gate
     * kernel) or {@code onednn} (oneDNN's fused LSTM layer, what LibTorch's own lstm runs; without a
     * projection only) or {@code device} (the scan CUDA devices run, on LibTorch's CPU operations). For
     * measurements and workarounds.
     */
    static int cpuAlgorithm() {
        String v = System.getProperty("lstm4j.native.cpuAlgorithm", "auto");
        switch (v) {
            case "auto":
                return 0;
            case "scan":
                return 1;
            case "onednn":
                return 2;
            case "team":
                return 3;
            case "device":
                return 4;
            default:
                throw new IllegalArgumentException(
                        "lstm4j.native.cpuAlgorithm: expected auto, team, scan, onednn or device, got '"
                        + v + "'");
        }
    }

    /** Hands every tensor of {@code weights} to the native object, by dtype. */
    private static void setParameters(StateDict weights, BiConsumer<String, float[]> floats,
            BiConsumer<String, double[]> doubles) {
        for (Map.Entry<String, Tensor> e : weights.asMap().entrySet()) {
            Tensor t = e.getValue();
            if (t.dtype() == DType.FLOAT32) {
                floats.accept(e.getKey(), t.floatData());
            } else {
                doubles.accept(e.getKey(), t.doubleData());
            }
        }
    }

    static int dtypeCode(DType dtype) {
        return dtype == DType.FLOAT64 ? 1 : 0;
    }

    /** Below this many input and output elements, arrays go to native code directly. */
    private static final long STAGING_MIN_ELEMENTS = 1 << 16;

    /** Native input and output buffers of one forward call at a time, grown as needed, freed on close. */
    private static final class Staging implements AutoCloseable {
        private final Pointer[] buffers = new Pointer[2];

        FloatPointer floats(int slot, long n) {
            if (!(buffers[slot] instanceof FloatPointer) || buffers[slot].capacity() < n) {
                replace(slot, new FloatPointer(n));
            }
            return (FloatPointer) buffers[slot];
        }

        DoublePointer doubles(int slot, long n) {
            if (!(buffers[slot] instanceof DoublePointer) || buffers[slot].capacity() < n) {
                replace(slot, new DoublePointer(n));
            }
            return (DoublePointer) buffers[slot];
        }

        private void replace(int slot, Pointer p) {
            if (buffers[slot] != null) {
                buffers[slot].close();
            }
            buffers[slot] = p;
        }

        @Override
        public void close() {
            for (int i = 0; i < buffers.length; i++) {
                replace(i, null);
            }
        }
    }

    /** Runs forward passes on a prepared {@link NativeLstm}. */
    private static final class NativeLstmEngine implements LstmEngine, TorchTensors {
        private final NativeLstm lstm;
        private final boolean batchFirst;
        // Zero-copy calls come through TorchTensors, not through Lstm's own lifecycle: this lock keeps
        // close() from freeing the model under them.
        private final java.util.concurrent.locks.ReentrantReadWriteLock lock =
                new java.util.concurrent.locks.ReentrantReadWriteLock();
        private boolean closed;
        // Staging buffers of finished calls, one set per caller running at once.
        private final java.util.concurrent.ConcurrentLinkedDeque<Staging> staging =
                new java.util.concurrent.ConcurrentLinkedDeque<>();

        NativeLstmEngine(NativeLstm lstm, boolean batchFirst) {
            this.lstm = lstm;
            this.batchFirst = batchFirst;
        }

        @Override
        public Output forward(org.bytedeco.pytorch.Tensor input, org.bytedeco.pytorch.Tensor h0,
                org.bytedeco.pytorch.Tensor c0) {
            java.util.Objects.requireNonNull(input, "input");
            long[] out = new long[1];
            long[] hN = new long[1];
            long[] cN = new long[1];
            lock.readLock().lock();
            try {
                if (closed) {
                    throw new IllegalStateException("Lstm is closed");
                }
                try {
                    lstm.forward_tensors(input.address(), batchFirst, h0 == null ? 0 : h0.address(),
                            c0 == null ? 0 : c0.address(), out, hN, cN);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            } finally {
                lock.readLock().unlock();
            }
            return new Output(own(out[0]), own(hN[0]), own(cN[0]));
        }

        /** A presets Tensor owning its own reference to the tensor behind {@code handle}, which is freed. */
        private static org.bytedeco.pytorch.Tensor own(long handle) {
            org.bytedeco.javacpp.Pointer at = new org.bytedeco.javacpp.Pointer() {
                {
                    address = handle;
                }
            };
            org.bytedeco.pytorch.Tensor owned = new org.bytedeco.pytorch.Tensor(new org.bytedeco.pytorch.Tensor(at));
            NativeLstm.delete_tensor(handle);
            return owned;
        }

        @Override
        public void forward(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
                Tensor output, Tensor hN, Tensor cN) {
            long elements = (long) input.numel() + output.numel();
            if (elements >= STAGING_MIN_ELEMENTS) {
                forwardStaged(input, seqLen, batch, batchFirst, h0, c0, output, hN, cN);
            } else if (input.dtype() == DType.FLOAT32) {
                lstm.forward(input.floatData(), seqLen, batch, batchFirst, h0 == null ? null : h0.floatData(),
                        c0 == null ? null : c0.floatData(), output.floatData(), hN.floatData(), cN.floatData());
            } else {
                lstm.forward(input.doubleData(), seqLen, batch, batchFirst, h0 == null ? null : h0.doubleData(),
                        c0 == null ? null : c0.doubleData(), output.doubleData(), hN.doubleData(), cN.doubleData());
            }
        }

        /**
         * Input and output through native staging buffers kept for the next call: JNI copies a Java
         * array argument in and back out on every call (into freshly allocated memory), which cost
         * 3.5 ms of an 88 ms forward at B=64, T=128, H=256; here each crosses once.
         */
        private void forwardStaged(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
                Tensor output, Tensor hN, Tensor cN) {
            Staging s = staging.pollFirst();
            if (s == null) {
                s = new Staging();
            }
            try {
                if (input.dtype() == DType.FLOAT32) {
                    FloatPointer in = s.floats(0, input.numel());
                    FloatPointer out = s.floats(1, output.numel());
                    in.put(input.floatData(), 0, input.numel());
                    lstm.forward(in, seqLen, batch, batchFirst, h0 == null ? null : h0.floatData(),
                            c0 == null ? null : c0.floatData(), out, hN.floatData(), cN.floatData());
                    out.get(output.floatData(), 0, output.numel());
                } else {
                    DoublePointer in = s.doubles(0, input.numel());
                    DoublePointer out = s.doubles(1, output.numel());
                    in.put(input.doubleData(), 0, input.numel());
                    lstm.forward(in, seqLen, batch, batchFirst, h0 == null ? null : h0.doubleData(),
                            c0 == null ? null : c0.doubleData(), out, hN.doubleData(), cN.doubleData());
                    out.get(output.doubleData(), 0, output.numel());
                }
            } finally {
                staging.offerFirst(s);
            }
        }

        @Override
        public void forwardPacked(Tensor data, int[] batchSizes, Tensor h0, Tensor c0, Tensor output, Tensor hN,
                Tensor cN) {
            long[] sizes = new long[batchSizes.length];
            for (int t = 0; t < sizes.length; t++) {
                sizes[t] = batchSizes[t];
            }
            if (data.dtype() == DType.FLOAT32) {
                lstm.forward_packed(data.floatData(), sizes, sizes.length, h0 == null ? null : h0.floatData(),
                        c0 == null ? null : c0.floatData(), output.floatData(), hN.floatData(), cN.floatData());
            } else {
                lstm.forward_packed(data.doubleData(), sizes, sizes.length, h0 == null ? null : h0.doubleData(),
                        c0 == null ? null : c0.doubleData(), output.doubleData(), hN.doubleData(), cN.doubleData());
            }
        }

        @Override
        public void close() {
            lock.writeLock().lock();
            try {
                closed = true;
                for (Staging s; (s = staging.pollFirst()) != null;) {
                    s.close();
                }
                lstm.close();
            } finally {
                lock.writeLock().unlock();
            }
        }
    }

    /** Runs steps on a prepared {@link NativeLstmCell}. */
    private static final class NativeLstmCellEngine implements LstmCellEngine {
        private final NativeLstmCell cell;

        NativeLstmCellEngine(NativeLstmCell cell) {
            this.cell = cell;
        }

        @Override
        public void forward(Tensor input, int batch, Tensor h0, Tensor c0, Tensor h1, Tensor c1) {
            if (input.dtype() == DType.FLOAT32) {
                cell.forward(input.floatData(), batch, h0 == null ? null : h0.floatData(),
                        c0 == null ? null : c0.floatData(), h1.floatData(), c1.floatData());
            } else {
                cell.forward(input.doubleData(), batch, h0 == null ? null : h0.doubleData(),
                        c0 == null ? null : c0.doubleData(), h1.doubleData(), c1.doubleData());
            }
        }

        @Override
        public void close() {
            cell.close();
        }
    }
}
