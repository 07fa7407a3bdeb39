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
import java.lang.ref.Cleaner;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.Pointer;

/**
 * The {@link dev.lstm4j.Backend#NATIVE} backend: lstm4j's C++ LSTM through JavaCPP. Every native
 * failure passes through {@link NativeErrors#translate}: invalid input becomes an
 * {@link IllegalArgumentException}, anything else a {@link dev.lstm4j.NativeException}.
 */
public final class NativeEngineProvider extends LoadingEngineProvider {
    /** Frees the native model and staging buffers of an engine that was dropped without close(). */
    private static final Cleaner CLEANER = Cleaner.create();

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
                    deviceType(device), device.index()), NativeCalls::destroy);
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
        return new NativeLstmEngine(state, config.batchFirst(), config.dtype());
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
                    dtype(config.dtype(), Precision.FULL), deviceType(device), device.index()), NativeCalls::destroy);
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
        return new NativeLstmCellEngine(state, config.dtype());
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

    /**
     * A native model and the staging buffers of its engine: freed once, by close() or, for an engine
     * dropped without it, by the cleaner. Holds no reference to the engine.
     */
    private static final class NativeState<M extends Pointer> implements Runnable {
        final M model;
        final java.util.function.Consumer<M> destroy;
        final ConcurrentLinkedDeque<Staging> staging = new ConcurrentLinkedDeque<>();
        private boolean freed;

        NativeState(M model, java.util.function.Consumer<M> destroy) {
            this.model = model;
            this.destroy = destroy;
        }

        @Override
        public synchronized void run() {
            if (freed) {
                return;
            }
            freed = true;
            for (Staging s; (s = staging.pollFirst()) != null;) {
                s.close();
            }
            destroy.accept(model);
        }
    }

    /** Runs forward passes on a prepared {@link NativeLstm}. */
    private static final class NativeLstmEngine implements LstmEngine, TorchTensors {
        private final NativeState<NativeLstm> state;
        private final NativeLstm lstm;
        private final Cleaner.Cleanable cleanable;
        private final boolean batchFirst;
        private final DType dtype;
        // Zero-copy calls come through TorchTensors, not through Lstm's own lifecycle: this lock keeps
        // close() from freeing the model under them.
        private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        private boolean closed;

        NativeLstmEngine(NativeState<NativeLstm> state, boolean batchFirst, DType dtype) {
            this.state = state;
            this.lstm = state.model;
            this.cleanable = CLEANER.register(this, state);
            this.batchFirst = batchFirst;
            this.dtype = dtype;
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
                lstm.forward_tensors(input.address(), batchFirst, h0 == null ? 0 : h0.address(),
                        c0 == null ? 0 : c0.address(), out, hN, cN);
            } catch (RuntimeException e) {
                throw e instanceof IllegalStateException ? e : NativeErrors.translate(e);
            } finally {
                lock.readLock().unlock();
            }
            return new Output(own(out[0]), own(hN[0]), own(cN[0]));
        }

        /** A presets Tensor owning its own reference to the tensor behind {@code handle}, which is freed. */
        private static org.bytedeco.pytorch.Tensor own(long handle) {
            Pointer at = new Pointer() {
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
            Staging s = take();
            try {
                NativeCalls.forward(lstm, s.in(Staging.INPUT, input), seqLen, batch, batchFirst,
                        s.in(Staging.H0, h0), s.in(Staging.C0, c0), s.forOutput(Staging.OUTPUT, output),
                        s.forOutput(Staging.H_N, hN), s.forOutput(Staging.C_N, cN));
                s.out(Staging.OUTPUT, output);
                s.out(Staging.H_N, hN);
                s.out(Staging.C_N, cN);
            } catch (RuntimeException e) {
                throw NativeErrors.translate(e);
            } finally {
                state.staging.offerFirst(s);
            }
        }

        @Override
        public void forwardPacked(Tensor data, int[] batchSizes, Tensor h0, Tensor c0, Tensor output, Tensor hN,
                Tensor cN) {
            long[] sizes = new long[batchSizes.length];
            for (int t = 0; t < sizes.length; t++) {
                sizes[t] = batchSizes[t];
            }
            Staging s = take();
            try {
                NativeCalls.forward_packed(lstm, s.in(Staging.INPUT, data), sizes, sizes.length,
                        s.in(Staging.H0, h0), s.in(Staging.C0, c0), s.forOutput(Staging.OUTPUT, output),
                        s.forOutput(Staging.H_N, hN), s.forOutput(Staging.C_N, cN));
                s.out(Staging.OUTPUT, output);
                s.out(Staging.H_N, hN);
                s.out(Staging.C_N, cN);
            } catch (RuntimeException e) {
                throw NativeErrors.translate(e);
            } finally {
                state.staging.offerFirst(s);
            }
        }

        @Override
        public DeviceStream openStream(int batch) {
            lock.readLock().lock();
            try {
                if (closed) {
                    throw new IllegalStateException("Lstm is closed");
                }
                // Models that run the device scan: CUDA models of full precision (and, for the tests,
                // the device algorithm on the CPU); every other CPU model keeps its state in Java.
                if (!NativeCalls.streams_on_device(lstm)) {
                    return null;
                }
                return new NativeDeviceStream(NativeCalls.new_device_state(lstm, batch));
            } catch (RuntimeException e) {
                throw e instanceof IllegalStateException ? e : NativeErrors.translate(e);
            } finally {
                lock.readLock().unlock();
            }
        }

        /** A state on the model's device; freed by close() or, if dropped, by the cleaner. */
        private final class NativeDeviceStream implements DeviceStream {
            private final long handle;
            private final Cleaner.Cleanable freeing;

            NativeDeviceStream(long handle) {
                this.handle = handle;
                this.freeing = CLEANER.register(this, () -> NativeCalls.delete_device_state(handle));
            }

            @Override
            public void set(Tensor h, Tensor c) {
                Staging s = take();
                try {
                    NativeCalls.set_device_state(lstm, handle, s.in(Staging.H0, h), s.in(Staging.C0, c));
                } catch (RuntimeException e) {
                    throw NativeErrors.translate(e);
                } finally {
                    state.staging.offerFirst(s);
                }
            }

            @Override
            public void get(Tensor h, Tensor c) {
                Staging s = take();
                try {
                    NativeCalls.get_device_state(lstm, handle, s.forOutput(Staging.H_N, h), s.forOutput(Staging.C_N, c));
                    s.out(Staging.H_N, h);
                    s.out(Staging.C_N, c);
                } catch (RuntimeException e) {
                    throw NativeErrors.translate(e);
                } finally {
                    state.staging.offerFirst(s);
                }
            }

            @Override
            public void forward(Tensor chunk, int seqLen, int batch, boolean batchFirst, Tensor output) {
                Staging s = take();
                try {
                    NativeCalls.forward_stream(lstm, s.in(Staging.INPUT, chunk), seqLen, batch, batchFirst, handle,
                            s.forOutput(Staging.OUTPUT, output));
                    s.out(Staging.OUTPUT, output);
                } catch (RuntimeException e) {
                    throw NativeErrors.translate(e);
                } finally {
                    state.staging.offerFirst(s);
                }
            }

            @Override
            public void close() {
                freeing.clean();
            }
        }

        /** Staging buffers of a finished call (one set per caller running at once), or new ones. */
        private Staging take() {
            Staging s = state.staging.pollFirst();
            return s != null ? s : new Staging(dtype);
        }

        @Override
        public void close() {
            lock.writeLock().lock();
            try {
                closed = true;
                cleanable.clean();
            } finally {
                lock.writeLock().unlock();
            }
        }
    }

    /** Runs steps on a prepared {@link NativeLstmCell}. */
    private static final class NativeLstmCellEngine implements LstmCellEngine {
        private final NativeState<NativeLstmCell> state;
        private final Cleaner.Cleanable cleanable;
        private final DType dtype;

        NativeLstmCellEngine(NativeState<NativeLstmCell> state, DType dtype) {
            this.state = state;
            this.cleanable = CLEANER.register(this, state);
            this.dtype = dtype;
        }

        @Override
        public void forward(Tensor input, int batch, Tensor h0, Tensor c0, Tensor h1, Tensor c1) {
            Staging s = state.staging.pollFirst();
            if (s == null) {
                s = new Staging(dtype);
            }
            try {
                NativeCalls.forward_cell(state.model, s.in(Staging.INPUT, input), batch, s.in(Staging.H0, h0),
                        s.in(Staging.C0, c0), s.forOutput(Staging.H_N, h1), s.forOutput(Staging.C_N, c1));
                s.out(Staging.H_N, h1);
                s.out(Staging.C_N, c1);
            } catch (RuntimeException e) {
                throw NativeErrors.translate(e);
            } finally {
                state.staging.offerFirst(s);
            }
        }

        @Override
        public void close() {
            cleanable.clean();
        }
    }
}
