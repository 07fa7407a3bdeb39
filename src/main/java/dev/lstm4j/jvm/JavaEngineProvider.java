package dev.lstm4j.jvm;

import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.ModelOptions;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.spi.EngineProvider;
import dev.lstm4j.spi.LstmCellEngine;
import dev.lstm4j.spi.LstmEngine;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The {@link dev.lstm4j.Backend#JAVA} backend: a pure-Java LSTM engine with no native code, for
 * platforms without LibTorch and sandboxes without JNI. It references no JavaCPP or LibTorch class.
 */
public final class JavaEngineProvider implements EngineProvider {
    /** Creates the provider; the engine needs nothing loaded. */
    public JavaEngineProvider() {
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    private static void checkDevice(Device device) {
        if (!device.isCpu()) {
            throw new IllegalArgumentException("device: the JAVA backend runs on cpu only, got " + device);
        }
    }

    @Override
    public LstmEngine createLstm(LstmConfig config, StateDict weights, Device device) {
        return createLstm(config, weights, device, ModelOptions.defaultThreads());
    }

    @Override
    public LstmEngine createLstm(LstmConfig config, StateDict weights, Device device, int threads) {
        checkDevice(device);
        return config.dtype() == DType.FLOAT32
                ? new Engine<>(new JavaLstm<>(FloatArith.INSTANCE, config, weights, Tensor::floatData, threads),
                        Tensor::floatData)
                : new Engine<>(new JavaLstm<>(DoubleArith.INSTANCE, config, weights, Tensor::doubleData, threads),
                        Tensor::doubleData);
    }

    /** Adapts a {@link JavaLstm} of either element type to the engine interface. */
    private static final class Engine<A> implements LstmEngine {
        // Dropped by close(), so that a closed model still referenced by the caller holds no weights;
        // the API's lifecycle guarantees no call runs during or after close().
        private JavaLstm<A> lstm;
        private final Function<Tensor, A> data;

        Engine(JavaLstm<A> lstm, Function<Tensor, A> data) {
            this.lstm = lstm;
            this.data = data;
        }

        @Override
        public void forward(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
                Tensor output, Tensor hN, Tensor cN) {
            lstm.forward(data.apply(input), seqLen, batch, batchFirst, h0 == null ? null : data.apply(h0),
                    c0 == null ? null : data.apply(c0), data.apply(output), data.apply(hN), data.apply(cN));
        }

        @Override
        public void forwardPacked(Tensor data, int[] batchSizes, Tensor h0, Tensor c0, Tensor output, Tensor hN,
                Tensor cN) {
            lstm.forwardPacked(this.data.apply(data), batchSizes, h0 == null ? null : this.data.apply(h0),
                    c0 == null ? null : this.data.apply(c0), this.data.apply(output), this.data.apply(hN),
                    this.data.apply(cN));
        }

        @Override
        public void close() {
            lstm.close();
            lstm = null;
        }
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device) {
        return createCell(config, weights, device, ModelOptions.defaultThreads());
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device, int threads) {
        checkDevice(device);
        // A cell is one step of a one-layer LSTM under the _l0 names; its h_n is its output.
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        weights.asMap().forEach((k, v) -> renamed.put(k + "_l0", v));
        LstmEngine lstm = createLstm(config.asLstmConfig(), StateDict.of(renamed), device, threads);
        return new LstmCellEngine() {
            @Override
            public void forward(Tensor input, int batch, Tensor h0, Tensor c0, Tensor h1, Tensor c1) {
                // output and h_n are the same (1, B, H) values: let both land in h1.
                lstm.forward(input, 1, batch, false, h0, c0, h1, h1, c1);
            }

            @Override
            public void close() {
                lstm.close();
            }
        };
    }
}
