package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Bad input gets a precise exception naming the parameter, on every backend, before any native call. */
class ValidationTest {
    private static final LstmConfig CONFIG = LstmConfig.builder(5, 8).numLayers(2).bidirectional(true).projSize(3)
            .build();

    private static Lstm open(Backend backend) {
        return Lstm.create(CONFIG, TestSupport.randomWeights(CONFIG.parameterShapes(), 8, DType.FLOAT32,
                new Random(1)), backend, Device.cpu());
    }

    private static void assertMessage(String expected, Throwable e) {
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void badLengths(Backend backend) {
        try (Lstm lstm = open(backend)) {
            Tensor x = Tensor.zeros(DType.FLOAT32, 4, 3, 5); // (T=4, B=3, I=5)
            assertMessage("lengths: expected 3 lengths (the batch size), got 2", assertThrows(
                    IllegalArgumentException.class, () -> lstm.forward(x, new int[] {1, 2}, null, null)));
            assertMessage("lengths[1]: expected 1..4 (the input's sequence length), got 0", assertThrows(
                    IllegalArgumentException.class, () -> lstm.forward(x, new int[] {1, 0, 2}, null, null)));
            assertMessage("lengths[2]: expected 1..4 (the input's sequence length), got 5", assertThrows(
                    IllegalArgumentException.class, () -> lstm.forward(x, new int[] {1, 2, 5}, null, null)));
            assertMessage("lengths[0]: expected 1..4 (the input's sequence length), got -3", assertThrows(
                    IllegalArgumentException.class, () -> lstm.forward(x, new int[] {-3, 2, 2}, null, null)));
            assertMessage("input: lengths need a batched 3-D input, got 2-D [4, 5]", assertThrows(
                    IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(DType.FLOAT32, 4, 5), new int[] {4}, null, null)));
            assertMessage("h0: expected shape [4, 3, 3]", assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, new int[] {1, 2, 3}, Tensor.zeros(DType.FLOAT32, 4, 2, 3),
                            Tensor.zeros(DType.FLOAT32, 4, 2, 8))));
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void wrongInputSize(Backend backend) {
        try (Lstm lstm = open(backend)) {
            Tensor x = Tensor.zeros(DType.FLOAT32, 4, 2, 7);
            assertMessage("input has inconsistent input_size: got 7, expected 5",
                    assertThrows(IllegalArgumentException.class, () -> lstm.forward(x)));
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void wrongStateShapes(Backend backend) {
        try (Lstm lstm = open(backend)) {
            Tensor x = Tensor.zeros(DType.FLOAT32, 4, 2, 5);
            Tensor h0 = Tensor.zeros(DType.FLOAT32, 2, 2, 3);
            Tensor c0 = Tensor.zeros(DType.FLOAT32, 4, 2, 8);
            assertMessage("h0: expected shape [4, 2, 3]", assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, h0, c0)));
            Tensor h0ok = Tensor.zeros(DType.FLOAT32, 4, 2, 3);
            Tensor c0bad = Tensor.zeros(DType.FLOAT32, 4, 2, 3);
            assertMessage("c0: expected shape [4, 2, 8] (D*num_layers, batch, hidden_size), got [4, 2, 3]",
                    assertThrows(IllegalArgumentException.class, () -> lstm.forward(x, h0ok, c0bad)));
            assertMessage("pass both or neither", assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, h0ok, null)));
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void wrongDtypeRankAndEmpty(Backend backend) {
        try (Lstm lstm = open(backend)) {
            assertMessage("input: expected dtype float32, got float64", assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(DType.FLOAT64, 4, 2, 5))));
            assertMessage("expected a 2-D (unbatched) or 3-D (batched) tensor, got 4-D",
                    assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.zeros(DType.FLOAT32, 1, 4, 2, 5))));
            assertMessage("non-empty", assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(DType.FLOAT32, 0, 2, 5))));
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void closedModelThrowsAndDoubleCloseIsHarmless(Backend backend) {
        Lstm lstm = open(backend);
        lstm.close();
        lstm.close();
        assertMessage("Lstm is closed", assertThrows(IllegalStateException.class,
                () -> lstm.forward(Tensor.zeros(DType.FLOAT32, 4, 2, 5))));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void cellValidation(Backend backend) {
        LstmCellConfig cfg = LstmCellConfig.builder(3, 4).build();
        StateDict w = TestSupport.randomWeights(cfg.parameterShapes(), 4, DType.FLOAT32, new Random(2));
        try (LstmCell cell = LstmCell.create(cfg, w, backend, Device.cpu())) {
            assertMessage("input has inconsistent input_size: got 2, expected 3",
                    assertThrows(IllegalArgumentException.class, () -> cell.forward(Tensor.zeros(DType.FLOAT32, 5, 2))));
            assertMessage("h0: expected shape [5, 4] (batch, hidden_size), got [4, 4]",
                    assertThrows(IllegalArgumentException.class, () -> cell.forward(Tensor.zeros(DType.FLOAT32, 5, 3),
                            Tensor.zeros(DType.FLOAT32, 4, 4), Tensor.zeros(DType.FLOAT32, 5, 4))));
            LstmCellOutput out = cell.forward(Tensor.zeros(DType.FLOAT32, 3));
            assertEquals(1, out.h1().dim(), "unbatched cell keeps the unbatched shape");
        }
    }

    @Test
    void weightsThatDoNotFitListEveryProblem() {
        Map<String, Tensor> m = new LinkedHashMap<>(TestSupport.randomWeights(CONFIG.parameterShapes(), 8,
                DType.FLOAT32, new Random(3)).asMap());
        m.remove("weight_hh_l1");
        m.remove("bias_ih_l0_reverse");
        m.put("weight_ih_l0", Tensor.zeros(DType.FLOAT32, 32, 6));
        m.put("head.weight", Tensor.zeros(DType.FLOAT32, 2, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.create(CONFIG, StateDict.of(m), Backend.NATIVE, Device.cpu()));
        assertMessage("missing: bias_ih_l0_reverse, weight_hh_l1", e);
        assertMessage("unexpected: head.weight", e);
        assertMessage("weight_ih_l0: expected shape [32, 5], got [32, 6]", e);
    }

    @Test
    void configValidation() {
        assertMessage("hidden_size: expected a positive size, got 0", assertThrows(IllegalArgumentException.class,
                () -> LstmConfig.builder(3, 0).build()));
        assertMessage("proj_size: expected < hidden_size (4), got 4", assertThrows(IllegalArgumentException.class,
                () -> LstmConfig.builder(3, 4).projSize(4).build()));
        assertMessage("num_layers: expected a positive size, got -1", assertThrows(IllegalArgumentException.class,
                () -> LstmConfig.builder(3, 4).numLayers(-1).build()));
    }

    /**
     * Without CUDA (the CI machines) asking for cuda:0 says that CUDA is not available and why; with
     * CUDA, a device index past the last says which exist. Either way nothing native is created.
     */
    @Test
    void unusableCudaDeviceIsRefusedClearly() {
        StateDict w = TestSupport.randomWeights(CONFIG.parameterShapes(), 8, DType.FLOAT32, new Random(4));
        int count = Backend.NATIVE.cudaDeviceCount();
        Device device = Device.cuda(count == 0 ? 0 : count);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.create(CONFIG, w, Backend.NATIVE, device));
        assertMessage(count == 0 ? "device: cuda:0 cannot be used: CUDA is not available: "
                : "device: cuda:" + count + " does not exist: expected cuda:0 to cuda:" + (count - 1), e);
        if (count == 0) {
            assertTrue(Backend.NATIVE.cudaUnavailableReason().startsWith("CUDA is not available: "),
                    Backend.NATIVE.cudaUnavailableReason());
        }
        LstmCellConfig cellConfig = LstmCellConfig.builder(3, 8).build();
        StateDict cw = TestSupport.randomWeights(cellConfig.parameterShapes(), 8, DType.FLOAT32, new Random(5));
        assertThrows(IllegalArgumentException.class, () -> LstmCell.create(cellConfig, cw, Backend.NATIVE, device));
        assertMessage("device: the JAVA backend runs on cpu only, got cuda:0", assertThrows(
                IllegalArgumentException.class, () -> Lstm.create(CONFIG, w, Backend.JAVA, Device.cuda(0))));
        assertEquals(0, Backend.JAVA.cudaDeviceCount());
    }

    @Test
    void sixteenBitPrecisionNeedsNativeOnCuda() {
        LstmConfig bf16 = CONFIG.toBuilder().precision(Precision.BFLOAT16).build();
        StateDict w = TestSupport.randomWeights(CONFIG.parameterShapes(), 8, DType.FLOAT32, new Random(4));
        for (Backend backend : Backend.values()) {
            assertMessage("precision: bfloat16 runs on the NATIVE backend on a CUDA device, got " + backend + " on cpu",
                    assertThrows(IllegalArgumentException.class, () -> Lstm.create(bf16, w, backend, Device.cpu())));
        }
        assertMessage("precision: float16 takes dtype float32 data, got dtype float64", assertThrows(
                IllegalArgumentException.class,
                () -> CONFIG.toBuilder().dtype(DType.FLOAT64).precision(Precision.FLOAT16).build()));
        assertEquals("LSTM(3, 8).to(bfloat16)", LstmConfig.builder(3, 8).precision(Precision.BFLOAT16).build()
                .toString());
    }
}
