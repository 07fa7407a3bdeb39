package dev.lstm4j.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ONNX Runtime peer against lstm4j's own LSTM (the JAVA backend, PyTorch-exact) on the same
 * seeded weights and input, through the peer's line protocol: in this JVM for each shape, and once
 * through a real child process as {@code lstm4j bench --peers} drives it.
 */
class OrtPeerTest {
    /** ORT's LSTM uses its own GEMM and activation approximations: equal to float rounding, not bits. */
    private static final double TOLERANCE = 1e-5;

    @TempDir
    Path dir;

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of("uni_l1", LstmConfig.builder(4, 6).batchFirst(true).build(), 3, 5),
                Arguments.of("bi_l1", LstmConfig.builder(4, 6).bidirectional(true).batchFirst(true).build(), 3, 5),
                Arguments.of("uni_l2", LstmConfig.builder(4, 6).numLayers(2).batchFirst(true).build(), 3, 5),
                Arguments.of("bi_l2", LstmConfig.builder(4, 6).numLayers(2).bidirectional(true).batchFirst(true)
                        .build(), 3, 5),
                Arguments.of("bi_l2_seq_first", LstmConfig.builder(4, 6).numLayers(2).bidirectional(true)
                        .batchFirst(false).build(), 3, 5),
                Arguments.of("uni_l3_seq_first", LstmConfig.builder(5, 7).numLayers(3).batchFirst(false).build(), 2, 4),
                Arguments.of("bi_l2_no_bias", LstmConfig.builder(4, 6).numLayers(2).bidirectional(true)
                        .batchFirst(true).bias(false).build(), 3, 5),
                Arguments.of("bi_l1_b1_t1", LstmConfig.builder(3, 8).bidirectional(true).batchFirst(true).build(), 1, 1),
                // a batch large enough for ORT to split it across threads, and GEMMs past one register tile
                Arguments.of("bi_l2_b32_t16_h64", LstmConfig.builder(48, 64).numLayers(2).bidirectional(true)
                        .batchFirst(true).build(), 32, 16));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void matchesLstm4j(String name, LstmConfig config, int batch, int seqLen) throws IOException {
        LstmOutput ref = writeRow(dir, name, config, batch, seqLen, 42);
        try (OrtPeer peer = new OrtPeer(dir)) {
            assertEquals("ready", peer.handle("load " + name));
            assertTrue(peer.handle("call").matches("ns \\d+"));
            float[][] got = peer.firstResult();
            double worst = Math.max(maxAbsDiff(ref.output(), got[0]),
                    Math.max(maxAbsDiff(ref.hN(), got[1]), maxAbsDiff(ref.cN(), got[2])));
            System.out.printf(Locale.ROOT, "%s: worst |ORT - lstm4j| over output, h_n, c_n: %.3e%n", name, worst);
            assertTrue(worst <= TOLERANCE, name + ": worst |difference| " + worst);

            // the bench's check: diff against DIR/NAME.reference (the output only)
            writeRaw(dir.resolve(name + ".reference"), ref.output().floatData());
            String diff = peer.handle("diff");
            assertTrue(diff.startsWith("diff "), diff);
            assertTrue(Double.parseDouble(diff.substring(5)) <= TOLERANCE, diff);

            String block = peer.handle("block 3");
            assertTrue(block.matches("ms( \\d+\\.\\d{6}){3}"), block);
            // later forwards give the first one's numbers
            assertEquals("diff " + String.format(Locale.ROOT, "%.3e", Double.parseDouble(diff.substring(5))),
                    peer.handle("diff"));
        }
    }

    @Test
    void refusesProjection() throws IOException {
        writeRow(dir, "proj", LstmConfig.builder(4, 6).projSize(3).batchFirst(true).build(), 3, 5, 7);
        try (OrtPeer peer = new OrtPeer(dir)) {
            assertEquals("unsupported: ONNX's LSTM operator has no projection (proj_size)", peer.handle("load proj"));
            assertTrue(peer.handle("call").startsWith("error: "), "no row is loaded after a refusal");
        }
    }

    @Test
    void answersBadRowsWithWhatIsWrong() throws IOException {
        writeRow(dir, "ok", LstmConfig.builder(4, 6).batchFirst(true).build(), 2, 3, 1);
        try (OrtPeer peer = new OrtPeer(dir)) {
            assertEquals("error: IllegalStateException: no row loaded (send 'load NAME' first)", peer.handle("call"));
            assertTrue(peer.handle("load missing").contains("missing.properties"), peer.handle("load missing"));

            Files.write(dir.resolve("ok.weight_hh_l0"), new byte[4 * 5]);
            String reply = peer.handle("load ok");
            assertTrue(reply.startsWith("error: ") && reply.contains("weight_hh_l0: expected 144 values (24 x 6), got 5"),
                    reply);

            Files.writeString(dir.resolve("ok.properties"),
                    Files.readString(dir.resolve("ok.properties")).replace("hidden_size=6", "hidden_size=six"));
            reply = peer.handle("load ok");
            assertTrue(reply.endsWith("hidden_size must be an integer, got 'six'"), reply);
            assertEquals("error: unknown command 'frobnicate'", peer.handle("frobnicate"));
        }
    }

    @Test
    void readsTheOptionalKeys() throws IOException {
        LstmConfig config = LstmConfig.builder(4, 6).numLayers(2).batchFirst(true).build();
        LstmOutput ref = writeRow(dir, "one_thread", config, 3, 5, 3);
        Path props = dir.resolve("one_thread.properties");
        PeerRow bench = PeerRow.read(dir, "one_thread");
        assertTrue(bench.batchFirst() && bench.bias(), "the bench's rows: batch_first, biases");
        if (System.getenv("LSTM4J_PEER_THREADS") == null) {
            assertEquals(Runtime.getRuntime().availableProcessors(), bench.threads());
        }
        Files.writeString(props, Files.readString(props) + "threads=1\nbatch_first=true\n");
        assertEquals(1, PeerRow.read(dir, "one_thread").threads());
        try (OrtPeer peer = new OrtPeer(dir)) {
            assertEquals("ready", peer.handle("load one_thread"));
            assertTrue(peer.handle("call").startsWith("ns "));
            assertTrue(maxAbsDiff(ref.output(), peer.firstResult()[0]) <= TOLERANCE);
        }
        Files.writeString(props, Files.readString(props) + "threads=0\n");
        assertTrue(peer(dir, "load one_thread").endsWith("threads must be positive, got 0"));
    }

    private static String peer(Path dir, String command) {
        try (OrtPeer peer = new OrtPeer(dir)) {
            return peer.handle(command);
        }
    }

    @Test
    void reordersGatesFromTorchToOnnx() {
        // PyTorch's blocks i, f, g, o (hidden 1, two columns) -> ONNX's i, o, f, c
        float[] torch = {1, 2, 10, 20, 100, 200, 1000, 2000};
        float[] onnx = new float[10];
        LstmOnnx.reorderGates("weight_ih_l0", n -> torch, 1, 2, onnx, 2);
        assertArrayEquals(new float[] {0, 0, 1, 2, 1000, 2000, 10, 20, 100, 200}, onnx);
    }

    @Test
    void speaksTheLineProtocolInAChildProcess() throws Exception {
        LstmConfig config = LstmConfig.builder(4, 6).numLayers(2).bidirectional(true).batchFirst(true).build();
        LstmOutput ref = writeRow(dir, "bi_l2", config, 3, 5, 11);
        writeRaw(dir.resolve("bi_l2.reference"), ref.output().floatData());
        writeRow(dir, "proj", LstmConfig.builder(4, 6).projSize(2).batchFirst(true).build(), 3, 5, 12);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), OrtPeer.class.getName(), dir.toString());
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("ort-peer.log").toFile()).start();
        // a peer that stops answering ends the test instead of blocking it: its stdout closes
        CompletableFuture.delayedExecutor(120, TimeUnit.SECONDS).execute(p::destroyForcibly);
        try (BufferedWriter in = new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8));
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("ready", request(in, out, "load bi_l2"));
            assertTrue(request(in, out, "call").matches("ns \\d+"));
            assertTrue(request(in, out, "block 2").matches("ms \\d+\\.\\d{6} \\d+\\.\\d{6}"));
            assertTrue(request(in, out, "jit").matches("jit \\d+"));
            String diff = request(in, out, "diff");
            assertTrue(diff.startsWith("diff ") && Double.parseDouble(diff.substring(5)) <= TOLERANCE, diff);
            assertEquals("unsupported: ONNX's LSTM operator has no projection (proj_size)",
                    request(in, out, "load proj"));
            in.write("quit");
            in.newLine();
            in.flush();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the peer exits on quit");
            assertEquals(0, p.exitValue(), Files.readString(dir.resolve("ort-peer.log")));
        } finally {
            p.destroyForcibly();
        }
    }

    /** As the bench's PeerProcess reads replies: the next line after the marker; other lines skipped. */
    private static String request(BufferedWriter in, BufferedReader out, String command) throws IOException {
        in.write(command);
        in.newLine();
        in.flush();
        for (String line; (line = out.readLine()) != null;) {
            if (line.startsWith(OrtPeer.REPLY)) {
                return line.substring(OrtPeer.REPLY.length());
            }
        }
        throw new IOException("the peer exited before answering '" + command + "'");
    }

    /**
     * Writes the row files as {@code lstm4j bench --peers} does (sizes, raw float32 input and
     * state_dict entries; {@code batch_first} too, which the bench leaves at its default, true) and
     * returns lstm4j's result on them.
     */
    static LstmOutput writeRow(Path dir, String name, LstmConfig config, int batch, int seqLen, long seed)
            throws IOException {
        Random rnd = new Random(seed);
        double k = 1 / Math.sqrt(config.hiddenSize()); // PyTorch's init range
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : config.parameterShapes().entrySet()) {
            int n = 1;
            for (int d : e.getValue()) {
                n *= d;
            }
            weights.put(e.getKey(), Tensor.of(uniform(rnd, n, k), e.getValue()));
        }
        int[] shape = config.batchFirst() ? new int[] {batch, seqLen, config.inputSize()}
                : new int[] {seqLen, batch, config.inputSize()};
        Tensor input = Tensor.of(uniform(rnd, batch * seqLen * config.inputSize(), 1), shape);
        List<String> props = new ArrayList<>(List.of("input_size=" + config.inputSize(),
                "hidden_size=" + config.hiddenSize(), "num_layers=" + config.numLayers(),
                "bidirectional=" + config.bidirectional(), "proj_size=" + config.projSize(), "batch=" + batch,
                "seq_len=" + seqLen));
        if (!config.batchFirst()) {
            props.add("batch_first=false");
        }
        Files.writeString(dir.resolve(name + ".properties"), String.join("\n", props) + "\n");
        writeRaw(dir.resolve(name + ".input"), input.floatData());
        for (Map.Entry<String, Tensor> e : weights.entrySet()) {
            writeRaw(dir.resolve(name + "." + e.getKey()), e.getValue().floatData());
        }
        try (Lstm lstm = Lstm.create(config, StateDict.of(weights), Backend.JAVA, Device.cpu())) {
            return lstm.forward(input);
        }
    }

    private static float[] uniform(Random rnd, int n, double k) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) ((2 * rnd.nextDouble() - 1) * k);
        }
        return f;
    }

    private static void writeRaw(Path file, float[] f) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        Files.write(file, b.array());
    }

    private static double maxAbsDiff(Tensor ref, float[] got) {
        float[] r = ref.floatData();
        assertEquals(r.length, got.length, "element count");
        double worst = 0;
        for (int i = 0; i < r.length; i++) {
            worst = Math.max(worst, Math.abs(r[i] - got[i]));
        }
        return worst;
    }
}
