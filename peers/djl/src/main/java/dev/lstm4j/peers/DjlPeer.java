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
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;

/**
 * DJL's {@code LSTM} block (PyTorch engine, CPU) as a peer that {@code lstm4j bench --peers} times in
 * the same interleaved rounds as its own backends: this process runs in its own JVM (two LibTorch
 * versions must never share a process) and answers one command per line on standard input, one
 * line per command on standard output, after the marker {@code "@lstm4j-peer "}:
 * <ul>
 *   <li>{@code load NAME}: the row written to {@code DIR/NAME.properties} (sizes) and raw
 *       little-endian float32 files {@code DIR/NAME.input} and {@code DIR/NAME.<state_dict name>}
 *       (the same seeded weights and input as lstm4j's backends); answers {@code ready},
 *       {@code unsupported: WHY} or {@code error: MESSAGE};</li>
 *   <li>{@code call}: one untimed forward (warm-up); answers {@code ns T}, its duration;</li>
 *   <li>{@code block N}: N timed forwards back to back; answers {@code ms T1 ... TN};</li>
 *   <li>{@code jit}: milliseconds this JVM's JIT compilers have spent; answers {@code jit MS};</li>
 *   <li>{@code diff}: the largest |difference| of the first forward's output to
 *       {@code DIR/NAME.reference}; answers {@code diff D};</li>
 *   <li>{@code quit}.</li>
 * </ul>
 * A timed call does what lstm4j's {@code forward} does for its caller: it takes the input from a Java
 * array (copied into a new native array) and returns output, h_n and c_n as Java arrays.
 */
public final class DjlPeer {
    /** Marks a reply, so that anything else a library prints on stdout is not taken for one. */
    private static final String REPLY = "@lstm4j-peer ";
    private final Path dir;
    private NDManager manager;
    private LSTM lstm;
    private ParameterStore ps;
    private float[] x;
    private Shape xShape;
    private String name;
    private float[] first;

    private DjlPeer(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws IOException {
        DjlPeer peer = new DjlPeer(Path.of(args[0]));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null && !line.equals("quit");) {
            String reply;
            try {
                reply = peer.handle(line);
            } catch (Exception | Error e) {
                String msg = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
                reply = "error: " + e.getClass().getSimpleName() + ": " + msg;
            }
            System.out.println(REPLY + reply);
            System.out.flush();
        }
        peer.unload();
    }

    private String handle(String line) throws IOException {
        String[] f = line.split(" ");
        switch (f[0]) {
            case "load":
                return load(f[1]);
            case "call": {
                long t0 = System.nanoTime();
                forward();
                return "ns " + (System.nanoTime() - t0);
            }
            case "block": {
                int n = Integer.parseInt(f[1]);
                StringBuilder sb = new StringBuilder("ms");
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    forward();
                    sb.append(' ').append(String.format(Locale.ROOT, "%.6f", (System.nanoTime() - t0) / 1e6));
                }
                return sb.toString();
            }
            case "jit": {
                java.lang.management.CompilationMXBean jit =
                        java.lang.management.ManagementFactory.getCompilationMXBean();
                return "jit " + (jit != null && jit.isCompilationTimeMonitoringSupported()
                        ? jit.getTotalCompilationTime() : 0);
            }
            case "diff": {
                float[] ref = read(dir.resolve(name + ".reference"), first.length);
                double diff = 0;
                for (int i = 0; i < ref.length; i++) {
                    diff = Math.max(diff, Math.abs(ref[i] - first[i]));
                }
                return String.format(Locale.ROOT, "diff %.3e", diff);
            }
            default:
                return "error: unknown command '" + line + "'";
        }
    }

    private void forward() {
        try (NDManager sub = manager.newSubManager()) {
            NDList out = lstm.forward(ps, new NDList(sub.create(x, xShape)), false);
            out.attach(sub);
            float[] y = out.get(0).toFloatArray(); // the results on the host, as lstm4j returns them
            for (int i = 1; i < out.size(); i++) {
                out.get(i).toFloatArray(); // h_n, c_n
            }
            if (first == null) {
                first = y;
            }
        }
    }

    private String load(String row) throws IOException {
        unload();
        Properties p = new Properties();
        try (var in = Files.newInputStream(dir.resolve(row + ".properties"))) {
            p.load(in);
        }
        int inputSize = Integer.parseInt(p.getProperty("input_size"));
        int hidden = Integer.parseInt(p.getProperty("hidden_size"));
        int layers = Integer.parseInt(p.getProperty("num_layers"));
        boolean bidirectional = Boolean.parseBoolean(p.getProperty("bidirectional"));
        int proj = Integer.parseInt(p.getProperty("proj_size"));
        int batch = Integer.parseInt(p.getProperty("batch"));
        int seqLen = Integer.parseInt(p.getProperty("seq_len"));
        if (proj > 0) {
            return "unsupported: DJL's LSTM has no projection (proj_size) option";
        }
        manager = NDManager.newBaseManager("PyTorch");
        lstm = LSTM.builder().setStateSize(hidden).setNumLayers(layers).optBidirectional(bidirectional)
                .optBatchFirst(true).optReturnState(true).optHasBiases(true).build();
        lstm.initialize(manager, DataType.FLOAT32, new Shape(batch, seqLen, inputSize));
        // DJL names a parameter {l|r}_{layer}_{i2h|h2h}_{WEIGHT|BIAS}: PyTorch's weight_ih_l0 and friends.
        for (Pair<String, Parameter> e : lstm.getParameters()) {
            String djl = e.getKey().toLowerCase(Locale.ROOT);
            String torch = djl.contains("i2h") ? "ih" : "hh";
            String kind = djl.contains("weight") ? "weight_" : "bias_";
            int layer = Integer.parseInt(djl.split("_")[1]);
            String file = kind + torch + "_l" + layer + (djl.startsWith("r") ? "_reverse" : "");
            NDArray array = e.getValue().getArray();
            array.set(read(dir.resolve(row + "." + file), Math.toIntExact(array.size())));
        }
        x = read(dir.resolve(row + ".input"), batch * seqLen * inputSize);
        xShape = new Shape(batch, seqLen, inputSize);
        ps = new ParameterStore(manager, false);
        name = row;
        first = null;
        return "ready";
    }

    private void unload() {
        if (manager != null) {
            manager.close();
        }
        manager = null;
        lstm = null;
        x = null;
        first = null;
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
