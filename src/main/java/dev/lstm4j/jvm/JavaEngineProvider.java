package dev.lstm4j.jvm;

import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.spi.EngineProvider;
import dev.lstm4j.spi.LstmCellEngine;
import dev.lstm4j.spi.LstmEngine;
import java.util.LinkedHashMap;
import java.util.Map;

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
        checkDevice(device);
        if (config.dtype() == DType.FLOAT32) {
            JavaLstm<float[]> lstm = new JavaLstm<>(FloatArith.INSTANCE, config, weights, Tensor::floatData);
            return new LstmEngine() {
                @Override
                public void forward(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
                        Tensor output, Tensor hN, Tensor cN) {
                    lstm.forward(input.floatData(), seqLen, batch, batchFirst, h0 == null ? null : h0.floatData(),
                            c0 == null ? null : c0.floatData(), output.floatData(), hN.floatData(), cN.floatData());
                }

                @Override
                public void close() {
                    // heap memory only
                }
            };
        }
        JavaLstm<double[]> lstm = new JavaLstm<>(DoubleArith.INSTANCE, config, weights, Tensor::doubleData);
        return new LstmEngine() {
            @Override
            public void forward(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
                    Tensor output, Tensor hN, Tensor cN) {
                lstm.forward(input.doubleData(), seqLen, batch, batchFirst, h0 == null ? null : h0.doubleData(),
                        c0 == null ? null : c0.doubleData(), output.doubleData(), hN.doubleData(), cN.doubleData());
            }

            @Override
            public void close() {
                // heap memory only
            }
        };
    }

    @Override
    public LstmCellEngine createCell(LstmCellConfig config, StateDict weights, Device device) {
        checkDevice(device);
        // A cell is one step of a one-layer LSTM under the _l0 names; its h_n is its output.
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        weights.asMap().forEach((k, v) -> renamed.put(k + "_l0", v));
        LstmEngine lstm = createLstm(config.asLstmConfig(), StateDict.of(renamed), device);
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
