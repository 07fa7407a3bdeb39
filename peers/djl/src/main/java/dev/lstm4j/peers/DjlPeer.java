package dev.lstm4j.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;

/**
 * Times DJL's {@code LSTM} block (PyTorch engine, CPU) on rows written by {@code lstm4j bench --peers}:
 * {@code DIR/NAME.properties} (sizes, batch, seq_len, budget) and raw little-endian float32 files
 * {@code DIR/NAME.input} and {@code DIR/NAME.<state_dict name>} (the same seeded weights and input as
 * lstm4j's backends). Prints one line per row: {@code peer DJL NAME median_ms X max_abs_diff Y}, or
 * {@code peer DJL NAME unsupported: WHY} / {@code peer DJL NAME error: MESSAGE}.
 */
public final class DjlPeer {
    private DjlPeer() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        for (int i = 1; i < args.length; i++) {
            String name = args[i];
            try {
                System.out.println(run(dir, name));
            } catch (Exception | Error e) {
                String msg = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
                System.out.println("peer DJL " + name + " error: " + e.getClass().getSimpleName() + ": " + msg);
            }
            System.out.flush();
        }
    }

    private static String run(Path dir, String name) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newInputStream(dir.resolve(name + ".properties"))) {
            p.load(in);
        }
        int inputSize = Integer.parseInt(p.getProperty("input_size"));
        int hidden = Integer.parseInt(p.getProperty("hidden_size"));
        int layers = Integer.parseInt(p.getProperty("num_layers"));
        boolean bidirectional = Boolean.parseBoolean(p.getProperty("bidirectional"));
        int proj = Integer.parseInt(p.getProperty("proj_size"));
        int batch = Integer.parseInt(p.getProperty("batch"));
        int seqLen = Integer.parseInt(p.getProperty("seq_len"));
        long minNanos = Long.parseLong(p.getProperty("min_nanos"));
        int minCalls = Integer.parseInt(p.getProperty("min_calls"));
        int maxCalls = Integer.parseInt(p.getProperty("max_calls"));
        // The protocol lstm4j's own backends are timed with: blocks of about block_nanos of calls, each
        // after an untimed pause of settle_millis (0 and 0: back to back).
        long blockNanos = Long.parseLong(p.getProperty("block_nanos", "0"));
        long settleMillis = Long.parseLong(p.getProperty("settle_millis", "0"));
        if (proj > 0) {
            return "peer DJL " + name + " unsupported: DJL's LSTM has no projection (proj_size) option";
        }
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            LSTM lstm = LSTM.builder().setStateSize(hidden).setNumLayers(layers).optBidirectional(bidirectional)
                    .optBatchFirst(true).optReturnState(true).optHasBiases(true).build();
            lstm.initialize(manager, DataType.FLOAT32, new Shape(batch, seqLen, inputSize));
            // DJL names a parameter {l|r}_{layer}_{i2h|h2h}_{WEIGHT|BIAS}: PyTorch's weight_ih_l0 and friends.
            for (Pair<String, Parameter> e : lstm.getParameters()) {
                String djl = e.getKey().toLowerCase(Locale.ROOT);
                String torch = (djl.contains("i2h") ? "ih" : "hh");
                String kind = djl.contains("weight") ? "weight_" : "bias_";
                int layer = Integer.parseInt(djl.split("_")[1]);
                String file = kind + torch + "_l" + layer + (djl.startsWith("r") ? "_reverse" : "");
                NDArray array = e.getValue().getArray();
                float[] values = read(dir.resolve(name + "." + file), Math.toIntExact(array.size()));
                array.set(values);
            }
            NDArray x = manager.create(read(dir.resolve(name + ".input"), batch * seqLen * inputSize),
                    new Shape(batch, seqLen, inputSize));
            ParameterStore ps = new ParameterStore(manager, false);
            float[] first = null;
            double[] ms = new double[maxCalls];
            int n = 0;
            long spent = 0;
            long warm = System.nanoTime();
            long last = 0;
            for (int w = 0; w < 3 || System.nanoTime() - warm < minNanos / 2; w++) {
                try (NDManager sub = manager.newSubManager()) {
                    long t0 = System.nanoTime();
                    NDList out = lstm.forward(ps, new NDList(x), false);
                    if (first == null) {
                        first = out.get(0).toFloatArray();
                    }
                    out.attach(sub);
                    last = System.nanoTime() - t0;
                }
            }
            long t = Math.max(1, last);
            int block = (int) Math.max(1, Math.min(maxCalls / 4,
                    Math.max(blockNanos / t, 3 * t <= 2_000_000_000L ? 3 : 1)));
            while (n < maxCalls && (n < minCalls || spent < minNanos)) {
                if (settleMillis > 0) {
                    try {
                        Thread.sleep(settleMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                for (int c = 0; c < block && n < maxCalls; c++) {
                    try (NDManager sub = manager.newSubManager()) {
                        long t0 = System.nanoTime();
                        NDList out = lstm.forward(ps, new NDList(x), false);
                        out.get(0).toFloatArray(); // the result on the host, as lstm4j returns it
                        long dt = System.nanoTime() - t0;
                        out.attach(sub);
                        spent += dt;
                        ms[n++] = dt / 1e6;
                    }
                }
            }
            Arrays.sort(ms, 0, n);
            double median = n % 2 == 1 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
            float[] ref = read(dir.resolve(name + ".reference"), first.length);
            double diff = 0;
            for (int i = 0; i < ref.length; i++) {
                diff = Math.max(diff, Math.abs(ref[i] - first[i]));
            }
            return String.format(Locale.ROOT, "peer DJL %s median_ms %.4f max_abs_diff %.3e", name, median, diff);
        }
    }

    private static float[] read(Path file, int n) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length != 4L * n) {
            throw new IOException(file + ": " + bytes.length + " bytes, expected " + 4L * n);
        }
        float[] out = new float[n];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
