package dev.lstm4j.peers;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * ONNX Runtime's CPU {@code LSTM} as a peer that {@code lstm4j bench --peers} times in the same
 * interleaved rounds as its own backends, in its own JVM, speaking the line protocol of the DJL peer:
 * one command per line on standard input, one reply line per command on standard output after the
 * marker {@code "@lstm4j-peer "}:
 * <ul>
 *   <li>{@code load NAME}: the row written to {@code DIR/NAME.properties} and the raw little-endian
 *       float32 files {@code DIR/NAME.input} and {@code DIR/NAME.<state_dict name>} (see
 *       {@link PeerRow}); builds the ONNX model from those weights ({@link LstmOnnx}) and a session;
 *       answers {@code ready}, {@code unsupported: WHY} or {@code error: MESSAGE};</li>
 *   <li>{@code call}: one untimed forward (warm-up); answers {@code ns T}, its duration;</li>
 *   <li>{@code block N}: N timed forwards back to back; answers {@code ms T1 ... TN};</li>
 *   <li>{@code jit}: milliseconds this JVM's JIT compilers have spent; answers {@code jit MS};</li>
 *   <li>{@code diff}: the largest |difference| of the first forward's output to
 *       {@code DIR/NAME.reference}; answers {@code diff D};</li>
 *   <li>{@code quit}.</li>
 * </ul>
 * The session runs on the CPU with {@code threads} intra-op threads (the number of cores unless the
 * row or {@code LSTM4J_PEER_THREADS} says otherwise), sequential execution, all graph optimisations,
 * and {@code session.force_spinning_stop=1}: without it ORT's workers spin after each run and slow
 * whichever backend the bench times next. A timed call does what lstm4j's {@code forward} does for
 * its caller: it copies the input from a Java array into the input tensor's native buffer (made once,
 * at load) and output, h_n and c_n into Java arrays.
 */
public final class OrtPeer implements AutoCloseable {
    /** Marks a reply, so that anything else a library prints on stdout is not taken for one. */
    static final String REPLY = "@lstm4j-peer ";
    static final String NO_PROJECTION = "ONNX's LSTM operator has no projection (proj_size)";
    private final Path dir;
    private final OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor input;
    private FloatBuffer inputBuffer;
    private float[] x;
    private PeerRow row;
    private float[][] first;

    OrtPeer(Path dir) {
        this.dir = dir;
        this.env = OrtEnvironment.getEnvironment();
    }

    /** Runs the peer on the row files in {@code args[0]}, reading commands from standard input. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: OrtPeer DIR (the folder of the row files)");
            System.exit(2);
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (OrtPeer peer = new OrtPeer(Path.of(args[0]))) {
            for (String line; (line = in.readLine()) != null && !line.equals("quit");) {
                System.out.println(REPLY + peer.handle(line));
                System.out.flush();
            }
        }
    }

    /** One command's reply (without the marker); a failure is answered, never thrown. */
    String handle(String line) {
        try {
            return dispatch(line);
        } catch (Exception | Error e) {
            String msg = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            return "error: " + e.getClass().getSimpleName() + ": " + msg;
        }
    }

    private String dispatch(String line) throws IOException, OrtException {
        String[] f = line.trim().split(" +");
        switch (f[0]) {
            case "load":
                if (f.length != 2) {
                    return "error: expected 'load NAME', got '" + line + "'";
                }
                return load(f[1]);
            case "call": {
                requireLoaded();
                long t0 = System.nanoTime();
                forward();
                return "ns " + (System.nanoTime() - t0);
            }
            case "block": {
                requireLoaded();
                int n = f.length == 2 ? Integer.parseInt(f[1]) : -1;
                if (n < 1) {
                    return "error: expected 'block N' with N >= 1, got '" + line + "'";
                }
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
                requireLoaded();
                if (first == null) {
                    return "error: no forward has run on " + row.name() + " yet";
                }
                float[] ref = read(dir.resolve(row.name() + ".reference"), first[0].length);
                double diff = 0;
                for (int i = 0; i < ref.length; i++) {
                    diff = Math.max(diff, Math.abs(ref[i] - first[0][i]));
                }
                return String.format(Locale.ROOT, "diff %.3e", diff);
            }
            default:
                return "error: unknown command '" + line + "'";
        }
    }

    private void requireLoaded() {
        if (session == null) {
            throw new IllegalStateException("no row loaded (send 'load NAME' first)");
        }
    }

    /** One forward from the Java input array: output, h_n and c_n copied to Java arrays; the first is kept for diff. */
    private float[][] forward() throws OrtException {
        inputBuffer.put(x).rewind(); // at position 0 since load and every call before
        try (OrtSession.Result r = session.run(Map.of("input", input))) {
            float[][] out = new float[3][];
            for (int i = 0; i < 3; i++) {
                out[i] = ((OnnxTensor) r.get(i)).getFloatBuffer().array();
            }
            if (first == null) {
                first = out;
            }
            return out;
        }
    }

    private String load(String name) throws IOException, OrtException {
        unload();
        PeerRow r = PeerRow.read(dir, name);
        if (r.projSize() > 0) {
            return "unsupported: " + NO_PROJECTION;
        }
        byte[] model = LstmOnnx.build(r, param -> {
            try {
                return read(dir.resolve(name + "." + param), -1);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toByteArray();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(r.threads());
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            opts.addConfigEntry("session.force_spinning_stop", "1");
            session = env.createSession(model, opts);
        }
        long[] shape = r.batchFirst()
                ? new long[] {r.batch(), r.seqLen(), r.inputSize()}
                : new long[] {r.seqLen(), r.batch(), r.inputSize()};
        x = read(dir.resolve(name + ".input"), r.batch() * r.seqLen() * r.inputSize());
        // A direct buffer in native order: the tensor reads it in place, so each call's put is the copy.
        inputBuffer = ByteBuffer.allocateDirect(4 * x.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        inputBuffer.put(x).rewind();
        input = OnnxTensor.createTensor(env, inputBuffer, shape);
        row = r;
        first = null;
        return "ready";
    }

    /** The first forward's output, h_n and c_n since the last load, or null: for the tests. */
    float[][] firstResult() {
        return first;
    }

    private void unload() {
        first = null;
        row = null;
        if (input != null) {
            input.close();
            input = null;
            inputBuffer = null;
            x = null;
        }
        if (session != null) {
            try {
                session.close();
            } catch (OrtException e) {
                // nothing left to release that a later load could trip on
            }
            session = null;
        }
    }

    @Override
    public void close() {
        unload();
    }

    /** Reads raw little-endian float32; {@code n < 0}: any whole number of floats. */
    private static float[] read(Path file, int n) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
        if (n >= 0 ? bytes.length != 4L * n : bytes.length % 4 != 0) {
            throw new IOException(file + ": " + bytes.length + " bytes, expected " + (n >= 0 ? 4L * n : "a multiple of 4"));
        }
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
