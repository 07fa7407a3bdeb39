package dev.lstm4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmCell;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmCellOutput;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.io.File;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** dev.lstm4j:lstm4j with org.bytedeco:pytorch and org.bytedeco:openblas excluded, as the README shows. */
class JavaOnlyTest {
    /** Held strongly: JUL keeps loggers weakly, and the handler would go with a collected one. */
    private static final Logger JUL = Logger.getLogger("dev.lstm4j");
    private static final List<LogRecord> RECORDS = new CopyOnWriteArrayList<>();

    static {
        JUL.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                RECORDS.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    @Test
    void theResolvedClassPathHasNoLibTorchOrOpenBlas() {
        List<String> cp = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        assertTrue(cp.stream().anyMatch(e -> e.contains("lstm4j-0.1.0")), cp.toString());
        List<String> natives = cp.stream().filter(e -> e.contains("pytorch") || e.contains("openblas"))
                .collect(Collectors.toList());
        assertEquals(List.of(), natives, "LibTorch or OpenBLAS jars on a Java-only class path");
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.bytedeco.pytorch.Tensor"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.bytedeco.openblas.global.openblas"));
    }

    /** One step of a one-unit LSTM from zero state, against its closed form; LstmCell too. */
    @Test
    void theJavaBackendRunsAndCreateWithoutBackendFallsBackToItSayingWhy() {
        LstmConfig config = LstmConfig.builder(1, 1).build();
        Tensor wih = Tensor.of(new float[] {0.5f, -0.25f, 0.75f, 1.0f}, 4, 1);
        Tensor zeros41 = Tensor.zeros(DType.FLOAT32, 4, 1);
        Tensor bias = Tensor.of(new float[] {0.1f, 0.2f, -0.3f, 0.4f}, 4);
        Tensor zeros4 = Tensor.zeros(DType.FLOAT32, 4);
        StateDict w = StateDict.of(Map.of("weight_ih_l0", wih, "weight_hh_l0", zeros41, "bias_ih_l0", bias,
                "bias_hh_l0", zeros4));
        double x = 0.8;
        double i = sigmoid(0.5 * x + 0.1);
        double g = Math.tanh(0.75 * x - 0.3);
        double o = sigmoid(1.0 * x + 0.4);
        double c = i * g; // f * c0 = 0
        double h = o * Math.tanh(c);
        for (Lstm lstm : List.of(Lstm.create(config, w, Backend.JAVA, Device.cpu()), Lstm.create(config, w),
                Lstm.create(config, w))) {
            try (lstm) {
                assertEquals(Backend.JAVA, lstm.backend());
                LstmOutput out = lstm.forward(Tensor.of(new float[] {(float) x}, 1, 1, 1));
                assertEquals(h, out.output().getDouble(0), 1e-6);
                assertEquals(c, out.cN().getDouble(0), 1e-6);
            }
        }
        StateDict cw = StateDict.of(Map.of("weight_ih", wih, "weight_hh", zeros41, "bias_ih", bias, "bias_hh", zeros4));
        try (LstmCell cell = LstmCell.create(LstmCellConfig.builder(1, 1).build(), cw)) {
            assertEquals(Backend.JAVA, cell.backend());
            LstmCellOutput out = cell.forward(Tensor.of(new float[] {(float) x}, 1, 1));
            assertEquals(h, out.h1().getDouble(0), 1e-6);
        }
        List<String> logged = RECORDS.stream().map(LogRecord::getMessage).collect(Collectors.toList());
        assertEquals(1, logged.size(), "one line per process and reason: " + logged);
        System.out.println("logged: " + logged.get(0));
        assertTrue(logged.get(0).startsWith("lstm4j uses backend JAVA") && logged.get(0).contains("NATIVE"), logged.get(0));
        assertFalse(Backend.NATIVE.isAvailable());
        assertTrue(logged.get(0).endsWith(Backend.NATIVE.unavailableReason()), logged + " vs " + Backend.NATIVE.unavailableReason());
        // Named explicitly, NATIVE is never replaced: it fails with the same reason.
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Lstm.create(config, w, Backend.NATIVE, Device.cpu()));
        assertEquals(Backend.NATIVE.unavailableReason(), e.getMessage());
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }
}
