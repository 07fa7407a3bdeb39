package dev.lstm4j.libtorch;

import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.spi.LoadingEngineProvider;
import dev.lstm4j.spi.LstmCellEngine;
import dev.lstm4j.spi.LstmEngine;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The {@link dev.lstm4j.Backend#LIBTORCH} backend: LibTorch's own {@code torch::lstm} and
 * {@code torch::lstm_cell}, called through the JavaCPP presets' Java API. It is the in-process
 * reference that the other backends are compared with, and the anchor of the benchmarks.
 */
public final class LibTorchEngineProvider extends LoadingEngineProvider {
    /** Loads the presets' LibTorch; remembers why if that fails. */
    public LibTorchEngineProvider() {
        super("LibTorch from the JavaCPP presets", LibTorchEngineProvider::load);
    }

    /**
     * Loads the presets' LibTorch, unless the NATIVE backend runs on another LibTorch in this JVM
     * (two copies in one process abort it) or JavaCPP's loading is off (then the presets' classes
     * would fail at their first call instead).
     */
    private static void load() {
        String existing = dev.lstm4j.nativ.binding.Lstm4jNative.existingLibTorchDir();
        if (existing != null) {
            throw new UnsatisfiedLinkError("the NATIVE backend runs on the LibTorch in " + existing + " ("
                    + dev.lstm4j.nativ.binding.Lstm4jNative.LIBTORCH_DIR_PROPERTY
                    + ") in this JVM, and the presets' LibTorch cannot be loaded next to it; run LIBTORCH in a JVM "
                    + "without that setting");
        }
        if (!Loader.isLoadLibraries()) {
            throw new UnsatisfiedLinkError("JavaCPP's loading of native libraries is off in this JVM "
                    + "(org.bytedeco.javacpp.loadlibraries=false)");
        }
        Loader.load(torch.class);
    }

    private static void checkDevice(Device device) {
        if (!device.isCpu()) {
            throw new IllegalArgumentException("device: the LIBTORCH backend runs on cpu only, got " + device);
        }
    }

    /**
     * LibTorch's intra-op thread count as this provider set it, 0 before the first model. LibTorch has
     * one intra-op pool per process ({@code at::set_num_threads}), not one per model: the first
     * LIBTORCH model created sets it to its thread count, later models share it as it is.
     */
    private static int torchThreads;

    /** Sets LibTorch's process-wide intra-op thread count once, to the first model's count. */
    private static synchronized void takeThreadsOnce(int threads) {
        if (torchThreads == 0) {
            torch.set_num_threads(threads);
            torchThreads = threads;
        }
    }

    /** LibTorch's intra-op thread count as this provider set it; 0 before the first LIBTORCH model. */
    public static synchronized int torchThreads() {
        return torchThreads;
    }

    @Override
    public LstmEngine createLstm(LstmConfig config, StateDict weights, Device device) {
        return createLstm(config, weights, device, dev.lstm4j.ModelOptions.defaultThreads());
    }

    @Override
    public LstmEngine createLstm(LstmConfig config, StateDict weights, Device device, int threads) {
        checkDevice(device);
        return ExitGuard.call(() -> {
            takeThreadsOnce(threads);
            return createLstmNow(config, weights);
        });
    }

    private static LstmEngine createLstmNow(LstmConfig config, StateDict weights) {
        // torch::lstm takes the flat parameter list in state_dict order: per layer and direction
        // w_ih, w_hh, [b_ih, b_hh], [w_hr].
        List<org.bytedeco.pytorch.Tensor> params = new ArrayList<>();
        for (String name : config.parameterShapes().keySet()) {
            params.add(toTorch(weights.get(name)));
        }
        return new LibTorchLstmEngine(config, params);
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device) {
        return createCell(config, weights, device, dev.lstm4j.ModelOptions.defaultThreads());
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device, int threads) {
        checkDevice(device);
        ExitGuard.run(() -> takeThreadsOnce(threads));
        return ExitGuard.call(() -> new LibTorchCellEngine(config, toTorch(weights.get("weight_ih")),
                toTorch(weights.get("weight_hh")),
                config.bias() ? toTorch(weights.get("bias_ih")) : null,
                config.bias() ? toTorch(weights.get("bias_hh")) : null));
    }

    /**
     * A LibTorch tensor owning a copy of {@code t}. Inside a {@link PointerScope} it belongs to the
     * scope; outside one, to the caller.
     */
    static org.bytedeco.pytorch.Tensor toTorch(Tensor t) {
        return toTorch(t, t.shape());
    }

    static org.bytedeco.pytorch.Tensor toTorch(Tensor t, int[] shape) {
        long[] sizes = new long[shape.length];
        for (int k = 0; k < shape.length; k++) {
            sizes[k] = shape[k];
        }
        try (Pointer data = t.dtype() == DType.FLOAT32 ? new FloatPointer(t.floatData())
                        : new DoublePointer(t.doubleData());
                TensorOptions options = new TensorOptions(t.dtype() == DType.FLOAT32 ? torch.ScalarType.Float
                        : torch.ScalarType.Double);
                org.bytedeco.pytorch.Tensor view = torch.from_blob(data, sizes, options)) {
            return view.clone();
        }
    }

    /** Copies a LibTorch result into {@code dst}'s array. */
    static void copyOut(org.bytedeco.pytorch.Tensor src, Tensor dst) {
        org.bytedeco.pytorch.Tensor c = src.contiguous();
        if (c.numel() != dst.numel()) {
            throw new IllegalStateException("LibTorch returned " + c.numel() + " elements, expected " + dst.numel());
        }
        if (dst.dtype() == DType.FLOAT32) {
            c.data_ptr_float().get(dst.floatData());
        } else {
            c.data_ptr_double().get(dst.doubleData());
        }
    }

    private static final class LibTorchLstmEngine implements LstmEngine {
        private final LstmConfig config;
        private final List<org.bytedeco.pytorch.Tensor> paramList;
        private final TensorVector params;

        LibTorchLstmEngine(LstmConfig config, List<org.bytedeco.pytorch.Tensor> paramList) {
            this.config = config;
            this.paramList = paramList;
            this.params = new TensorVector(paramList.toArray(new org.bytedeco.pytorch.Tensor[0]));
        }

        @Override
        public void forward(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
                Tensor output, Tensor hN, Tensor cN) {
            ExitGuard.run(() -> forwardNow(input, seqLen, batch, batchFirst, h0, c0, output, hN, cN));
        }

        private void forwardNow(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
                Tensor output, Tensor hN, Tensor cN) {
            int states = config.numDirections() * config.numLayers();
            int[] xShape = batchFirst ? new int[] {batch, seqLen, config.inputSize()}
                    : new int[] {seqLen, batch, config.inputSize()};
            int[] hShape = {states, batch, config.realHiddenSize()};
            int[] cShape = {states, batch, config.hiddenSize()};
            try (PointerScope scope = new PointerScope()) {
                org.bytedeco.pytorch.Tensor x = toTorch(input, xShape);
                // PyTorch detects a projection from h0's last size, so the state is always passed.
                org.bytedeco.pytorch.Tensor h = toTorch(h0 != null ? h0 : Tensor.zeros(config.dtype(), hShape), hShape);
                org.bytedeco.pytorch.Tensor c = toTorch(c0 != null ? c0 : Tensor.zeros(config.dtype(), cShape), cShape);
                T_TensorTensorTensor_T r = torch.lstm(x, new TensorVector(h, c), params, config.bias(),
                        config.numLayers(), 0.0, false, config.bidirectional(), batchFirst);
                copyOut(r.get0(), output);
                copyOut(r.get1(), hN);
                copyOut(r.get2(), cN);
            }
        }

        @Override
        public void forwardPacked(Tensor data, int[] batchSizes, Tensor h0, Tensor c0, Tensor output, Tensor hN,
                Tensor cN) {
            ExitGuard.run(() -> forwardPackedNow(data, batchSizes, h0, c0, output, hN, cN));
        }

        private void forwardPackedNow(Tensor data, int[] batchSizes, Tensor h0, Tensor c0, Tensor output, Tensor hN,
                Tensor cN) {
            int states = config.numDirections() * config.numLayers();
            int batch = batchSizes[0];
            int rows = 0;
            long[] sizes = new long[batchSizes.length];
            for (int t = 0; t < sizes.length; t++) {
                sizes[t] = batchSizes[t];
                rows += batchSizes[t];
            }
            int[] hShape = {states, batch, config.realHiddenSize()};
            int[] cShape = {states, batch, config.hiddenSize()};
            try (PointerScope scope = new PointerScope()) {
                org.bytedeco.pytorch.Tensor x = toTorch(data, new int[] {rows, config.inputSize()});
                org.bytedeco.pytorch.Tensor bs = org.bytedeco.pytorch.AbstractTensor.create(sizes);
                org.bytedeco.pytorch.Tensor h = toTorch(h0 != null ? h0 : Tensor.zeros(config.dtype(), hShape), hShape);
                org.bytedeco.pytorch.Tensor c = toTorch(c0 != null ? c0 : Tensor.zeros(config.dtype(), cShape), cShape);
                // torch::lstm's PackedSequence overload: what nn.LSTM runs on pack_padded_sequence's result.
                T_TensorTensorTensor_T r = torch.lstm(x, bs, new TensorVector(h, c), params, config.bias(),
                        config.numLayers(), 0.0, false, config.bidirectional());
                copyOut(r.get0(), output);
                copyOut(r.get1(), hN);
                copyOut(r.get2(), cN);
            }
        }

        @Override
        public void close() {
            ExitGuard.run(() -> {
                params.close();
                paramList.forEach(Pointer::close);
            });
        }
    }

    private static final class LibTorchCellEngine implements LstmCellEngine {
        private final LstmCellConfig config;
        private final org.bytedeco.pytorch.Tensor wIh;
        private final org.bytedeco.pytorch.Tensor wHh;
        private final org.bytedeco.pytorch.Tensor bIh;
        private final org.bytedeco.pytorch.Tensor bHh;

        LibTorchCellEngine(LstmCellConfig config, org.bytedeco.pytorch.Tensor wIh, org.bytedeco.pytorch.Tensor wHh,
                org.bytedeco.pytorch.Tensor bIh, org.bytedeco.pytorch.Tensor bHh) {
            this.config = config;
            this.wIh = wIh;
            this.wHh = wHh;
            this.bIh = bIh;
            this.bHh = bHh;
        }

        @Override
        public void forward(Tensor input, int batch, Tensor h0, Tensor c0, Tensor h1, Tensor c1) {
            ExitGuard.run(() -> forwardNow(input, batch, h0, c0, h1, c1));
        }

        private void forwardNow(Tensor input, int batch, Tensor h0, Tensor c0, Tensor h1, Tensor c1) {
            int[] xShape = {batch, config.inputSize()};
            int[] sShape = {batch, config.hiddenSize()};
            try (PointerScope scope = new PointerScope()) {
                org.bytedeco.pytorch.Tensor x = toTorch(input, xShape);
                org.bytedeco.pytorch.Tensor h = toTorch(h0 != null ? h0 : Tensor.zeros(config.dtype(), sShape), sShape);
                org.bytedeco.pytorch.Tensor c = toTorch(c0 != null ? c0 : Tensor.zeros(config.dtype(), sShape), sShape);
                T_TensorTensor_T r = bIh != null
                        ? torch.lstm_cell(x, new TensorVector(h, c), wIh, wHh, new TensorOptional(bIh),
                                new TensorOptional(bHh))
                        : torch.lstm_cell(x, new TensorVector(h, c), wIh, wHh);
                copyOut(r.get0(), h1);
                copyOut(r.get1(), c1);
            }
        }

        @Override
        public void close() {
            ExitGuard.run(() -> {
                wIh.close();
                wHh.close();
                if (bIh != null) {
                    bIh.close();
                    bHh.close();
                }
            });
        }
    }
}
