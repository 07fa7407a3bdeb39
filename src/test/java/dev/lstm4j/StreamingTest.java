package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A long input fed in random chunks (single steps included) equals one forward over it, on every backend. */
class StreamingTest {
    static Stream<Arguments> cases() {
        List<Arguments> args = new ArrayList<>();
        for (Backend b : Backend.values()) {
            for (DType dtype : DType.values()) {
                args.add(Arguments.of(b, dtype, 2, 0, true, 8));
                args.add(Arguments.of(b, dtype, 1, 3, false, 8));
            }
            args.add(Arguments.of(b, DType.FLOAT32, 1, 0, true, 256)); // wide: the teams split each step
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1} layers={2} proj={3} batch_first={4} hidden={5}")
    @MethodSource("cases")
    void chunksEqualOneForward(Backend backend, DType dtype, int layers, int proj, boolean batchFirst, int hidden) {
        Random rnd = new Random(layers * 31 + proj + hidden + (batchFirst ? 7 : 0) + dtype.ordinal());
        int inputSize = 6;
        int batch = 3;
        int seqLen = 40;
        LstmConfig config = LstmConfig.builder(inputSize, hidden).numLayers(layers).projSize(proj)
                .batchFirst(batchFirst).dtype(dtype).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), hidden, dtype, rnd);
        Tensor x = TestSupport.random(batchFirst ? new int[] {batch, seqLen, inputSize}
                : new int[] {seqLen, batch, inputSize}, dtype, rnd, 1.0);
        Tensor h0 = TestSupport.random(new int[] {layers, batch, config.realHiddenSize()}, dtype, rnd, 1.0);
        Tensor c0 = TestSupport.random(new int[] {layers, batch, hidden}, dtype, rnd, 1.0);
        double tol = dtype == DType.FLOAT64 ? 1e-12 : 2e-6;
        try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu())) {
            LstmOutput whole = lstm.forward(x, h0, c0);
            LstmState state = lstm.newState(h0, c0);
            int f = config.realHiddenSize();
            double worst = 0;
            for (int t0 = 0; t0 < seqLen;) {
                int len = Math.min(seqLen - t0, rnd.nextInt(3) == 0 ? 1 : 1 + rnd.nextInt(9));
                Tensor chunk = slice(x, t0, len, batch, seqLen, inputSize, batchFirst);
                Tensor out = lstm.forward(chunk, state);
                for (int t = 0; t < len; t++) {
                    for (int b = 0; b < batch; b++) {
                        for (int k = 0; k < f; k++) {
                            double got = out.getDouble(((batchFirst ? b * len + t : t * batch + b)) * f + k);
                            double want = whole.output().getDouble(
                                    ((batchFirst ? b * seqLen + t0 + t : (t0 + t) * batch + b)) * f + k);
                            worst = Math.max(worst, Math.abs(got - want));
                        }
                    }
                }
                t0 += len;
            }
            assertTrue(worst <= tol, backend + " chunked output differs by " + worst);
            assertTrue(state.h().maxAbsDiff(whole.hN()) <= tol, "h after the last chunk");
            assertTrue(state.c().maxAbsDiff(whole.cN()) <= tol, "c after the last chunk");
        }
    }

    @Test
    void singleStepsIntoACallersOutputAndErrors() {
        LstmConfig config = LstmConfig.builder(4, 8).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 8, DType.FLOAT32, new Random(3));
        try (Lstm lstm = Lstm.create(config, w, Backend.JAVA, Device.cpu());
                Lstm other = Lstm.create(config, w, Backend.JAVA, Device.cpu())) {
            LstmState state = lstm.newState(2);
            Tensor step = Tensor.zeros(DType.FLOAT32, 1, 2, 4);
            Tensor out = Tensor.zeros(DType.FLOAT32, 1, 2, 8);
            lstm.forwardInto(step, state, out);
            Tensor first = Tensor.of(out.floatData().clone(), 1, 2, 8);
            lstm.forwardInto(step, state, out);
            assertTrue(out.maxAbsDiff(first) > 0, "the state advanced");
            state.reset();
            lstm.forwardInto(step, state, out);
            assertEquals(0.0, out.maxAbsDiff(first), "reset gives the first step again");
            assertTrue(assertThrows(IllegalArgumentException.class, () -> other.forward(step, state)).getMessage()
                    .startsWith("state: belongs to another LSTM"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(DType.FLOAT32, 1, 3, 4), state)).getMessage()
                    .startsWith("chunk: expected batch 2 (the state's), got 3"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forwardInto(step, state, Tensor.zeros(DType.FLOAT32, 2, 2, 8))).getMessage()
                    .startsWith("output: expected shape [1, 2, 8], got [2, 2, 8]"));
        }
        LstmConfig bi = LstmConfig.builder(4, 8).bidirectional(true).build();
        try (Lstm lstm = Lstm.create(bi, TestSupport.randomWeights(bi.parameterShapes(), 8, DType.FLOAT32,
                new Random(4)), Backend.JAVA, Device.cpu())) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> lstm.newState(1)).getMessage()
                    .startsWith("state: streaming needs a unidirectional LSTM"));
        }
    }

    private static Tensor slice(Tensor x, int t0, int len, int batch, int seqLen, int in, boolean batchFirst) {
        Tensor out = Tensor.zeros(x.dtype(), batchFirst ? new int[] {batch, len, in} : new int[] {len, batch, in});
        for (int t = 0; t < len; t++) {
            for (int b = 0; b < batch; b++) {
                int src = (batchFirst ? b * seqLen + t0 + t : (t0 + t) * batch + b) * in;
                int dst = (batchFirst ? b * len + t : t * batch + b) * in;
                if (x.dtype() == DType.FLOAT32) {
                    System.arraycopy(x.floatData(), src, out.floatData(), dst, in);
                } else {
                    System.arraycopy(x.doubleData(), src, out.doubleData(), dst, in);
                }
            }
        }
        return out;
    }
}
