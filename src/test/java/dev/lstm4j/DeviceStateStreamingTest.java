package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Streaming with the state on the device: a model that runs the device scan (a CUDA model; here the
 * device algorithm on the CPU, the same code) keeps an LstmState's (h, c) there, so a chunk moves only
 * its input and output. Chunks must give exactly what one forward of the same model gives, from a
 * zero state and from a given one; other CPU models keep their state in Java, as before.
 */
class DeviceStateStreamingTest {
    private static final String ALGORITHM = "lstm4j.native.cpuAlgorithm";

    private static Lstm create(LstmConfig config, StateDict w, String algorithm) {
        String before = System.getProperty(ALGORITHM);
        try {
            if (algorithm != null) {
                System.setProperty(ALGORITHM, algorithm);
            }
            return Lstm.create(config, w, Backend.NATIVE, Device.cpu());
        } finally {
            if (before == null) {
                System.clearProperty(ALGORITHM);
            } else {
                System.setProperty(ALGORITHM, before);
            }
        }
    }

    @Test
    void chunksOnTheDeviceEqualOneForward() {
        int inputSize = 5;
        int hidden = 7;
        int batch = 3;
        int seqLen = 23;
        for (boolean givenState : new boolean[] {false, true}) {
            for (int proj : new int[] {0, 4}) {
                Random rnd = new Random(11 + proj + (givenState ? 1 : 0));
                LstmConfig config = LstmConfig.builder(inputSize, hidden).numLayers(2).projSize(proj).batchFirst(true)
                        .build();
                StateDict w = TestSupport.randomWeights(config.parameterShapes(), hidden, DType.FLOAT32, rnd);
                Tensor x = TestSupport.random(new int[] {batch, seqLen, inputSize}, DType.FLOAT32, rnd, 1.0);
                Tensor h0 = TestSupport.random(new int[] {2, batch, config.realHiddenSize()}, DType.FLOAT32, rnd, 1.0);
                Tensor c0 = TestSupport.random(new int[] {2, batch, hidden}, DType.FLOAT32, rnd, 1.0);
                try (Lstm lstm = create(config, w, "device")) {
                    LstmOutput whole = givenState ? lstm.forward(x, h0, c0) : lstm.forward(x);
                    try (LstmState state = givenState ? lstm.newState(h0, c0) : lstm.newState(batch)) {
                        assertNotNull(state.device(), "a device-scan model keeps its stream state on the device");
                        int f = config.realHiddenSize();
                        double worst = 0;
                        int[] lengths = {1, 5, 1, 9, 7};
                        int t0 = 0;
                        for (int len : lengths) {
                            Tensor chunk = Tensor.zeros(DType.FLOAT32, batch, len, inputSize);
                            for (int b = 0; b < batch; b++) {
                                for (int t = 0; t < len; t++) {
                                    for (int k = 0; k < inputSize; k++) {
                                        chunk.floatData()[(b * len + t) * inputSize + k] =
                                                x.floatData()[(b * seqLen + t0 + t) * inputSize + k];
                                    }
                                }
                            }
                            Tensor out = lstm.forward(chunk, state);
                            for (int b = 0; b < batch; b++) {
                                for (int t = 0; t < len; t++) {
                                    for (int k = 0; k < f; k++) {
                                        worst = Math.max(worst, Math.abs(out.floatData()[(b * len + t) * f + k]
                                                - whole.output().floatData()[(b * seqLen + t0 + t) * f + k]));
                                    }
                                }
                            }
                            t0 += len;
                        }
                        assertEquals(seqLen, t0);
                        String what = (givenState ? "given" : "zero") + " state, proj " + proj;
                        assertEquals(0.0, worst, what + ": chunked output differs by " + worst);
                        assertEquals(0.0, state.h().maxAbsDiff(whole.hN()), what + ": h after the last chunk");
                        assertEquals(0.0, state.c().maxAbsDiff(whole.cN()), what + ": c after the last chunk");
                        state.reset();
                        assertEquals(0.0, state.h().maxAbsDiff(Tensor.zeros(DType.FLOAT32, 2, batch, f)), "reset");
                    }
                }
            }
        }
    }

    /**
     * The stream pool gathers and scatters its streams' states through its own LstmState's Java
     * tensors around each step: that state must stay in Java even on a device-scan model (a device
     * state ignored the gathered states, and every frame ran from zeros).
     */
    @Test
    void streamPoolOnADeviceScanModelCarriesEachStreamsState() {
        int inputSize = 4;
        int hidden = 6;
        LstmConfig config = LstmConfig.builder(inputSize, hidden).build();
        Random rnd = new Random(9);
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), hidden, DType.FLOAT32, rnd);
        int streams = 3;
        int frames = 4;
        Tensor[][] x = new Tensor[streams][frames];
        for (Tensor[] f : x) {
            for (int t = 0; t < frames; t++) {
                f[t] = TestSupport.random(new int[] {inputSize}, DType.FLOAT32, rnd, 1.0);
            }
        }
        try (Lstm lstm = create(config, w, "device")) {
            Tensor[][] got = new Tensor[streams][frames];
            try (LstmStreamPool pool = LstmStreamPool.builder(lstm).build()) {
                LstmStream[] open = new LstmStream[streams];
                for (int i = 0; i < streams; i++) {
                    open[i] = pool.open();
                }
                for (int t = 0; t < frames; t++) {
                    for (int i = 0; i < streams; i++) {
                        got[i][t] = open[i].step(x[i][t]);
                    }
                }
            }
            double worst = 0;
            for (int i = 0; i < streams; i++) {
                try (LstmState alone = lstm.newState(1)) {
                    for (int t = 0; t < frames; t++) {
                        Tensor want = lstm.forward(x[i][t].reshape(1, 1, inputSize), alone);
                        worst = Math.max(worst, got[i][t].reshape(1, 1, hidden).maxAbsDiff(want));
                    }
                }
            }
            assertEquals(0.0, worst, 1e-6, "pooled frames differ from each stream alone by " + worst);
        }
    }

    @Test
    void otherCpuModelsKeepTheirStateInJava() {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 4, DType.FLOAT32, new Random(5));
        try (Lstm lstm = create(config, w, null); LstmState state = lstm.newState(2)) {
            assertNull(state.device());
        }
    }
}
