package dev.lstm4j.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.ModelOptions;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.integrations.ModelCache;
import dev.lstm4j.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The function on a Flink MiniCluster: chunks of many keys, interleaved, equal one forward pass per key
 * bit for bit; the state is a POJO (generic types, i.e. Kryo, disabled for the job).
 */
class LstmKeyedFunctionTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    Path tmp;

    /** The weights of a golden case (2-layer unidirectional LSTM, input_size 3, hidden_size 9). */
    private Path weights() throws Exception {
        Map<String, Tensor> w = new LinkedHashMap<>();
        Safetensors.read(Path.of("src/test/resources/golden/seqfirst_l2_b5_t7_i3_h9_hx.safetensors")).tensors()
                .forEach((k, v) -> {
                    if (k.startsWith("weight_") || k.startsWith("bias_")) {
                        w.put(k, v);
                    }
                });
        Path file = tmp.resolve("weights.safetensors");
        Safetensors.write(file, w, Map.of());
        return file;
    }

    @Test
    void stateTypesArePojosNotKryo() {
        for (Class<?> c : new Class<?>[] {LstmKeyState.class, LstmChunk.class, LstmChunkResult.class}) {
            assertInstanceOf(PojoTypeInfo.class, TypeInformation.of(c), c + " must be a Flink POJO");
        }
    }

    @Test
    void interleavedChunksOfManyKeysEqualOneForwardPerKey() throws Exception {
        Path file = weights();
        Random rnd = new Random(17);
        int keys = 40;
        Map<String, float[][]> whole = new LinkedHashMap<>();
        List<List<LstmChunk>> perKey = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            String key = "key-" + k;
            float[][] steps = new float[5 + rnd.nextInt(30)][3];
            for (float[] s : steps) {
                for (int j = 0; j < 3; j++) {
                    s[j] = (float) rnd.nextGaussian();
                }
            }
            whole.put(key, steps);
            List<LstmChunk> chunks = new ArrayList<>();
            int seq = 0;
            for (int t = 0; t < steps.length; ) {
                int n = Math.min(steps.length - t, 1 + rnd.nextInt(6));
                chunks.add(new LstmChunk(key, seq++, Arrays.copyOfRange(steps, t, t + n)));
                t += n;
            }
            perKey.add(chunks);
        }
        // Interleave: repeatedly the next chunk of a random key that has chunks left (each key's order kept).
        List<LstmChunk> stream = new ArrayList<>();
        int[] next = new int[keys];
        int left = perKey.stream().mapToInt(List::size).sum();
        while (left > 0) {
            int k = rnd.nextInt(keys);
            if (next[k] < perKey.get(k).size()) {
                stream.add(perKey.get(k).get(next[k]++));
                left--;
            }
        }

        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);  // any Kryo fallback fails the job
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        int loadsBefore = ModelCache.SHARED.loads();
        LstmKeyedFunction<String> function = LstmKeyedFunction.<String>builder(file.toString()).backend("native")
                .threads(2).stateTtl(Duration.ofHours(1)).build();
        Map<String, List<LstmChunkResult>> results = new HashMap<>();
        try (CloseableIterator<LstmChunkResult> it = env.fromData(stream).setParallelism(1)
                .keyBy(c -> c.key).process(function).setParallelism(2).executeAndCollect()) {
            it.forEachRemaining(r -> results.computeIfAbsent(r.key, x -> new ArrayList<>()).add(r));
        }
        assertEquals(1, ModelCache.SHARED.loads() - loadsBefore, "models built by 2 subtasks in one TaskManager");
        // The MiniCluster's TaskManager is this JVM: the model the subtasks shared is still cached.
        try (ModelCache.Lease lease = ModelCache.SHARED.acquire(function.cacheKey(), () -> {
            throw new AssertionError("no model was built for " + function.cacheKey());
        })) {
            assertEquals(2, lease.model().threads(), "threads(2) reaches the TaskManager's model");
        }
        assertThrows(IllegalArgumentException.class, () -> LstmKeyedFunction.builder(file.toString()).threads(-1));

        // The reference runs on one thread: the function's 2 threads give the same bits.
        StateDict sd = StateDict.load(file);
        try (Lstm lstm = Lstm.create(LstmConfig.inferFrom(sd).batchFirst(true).build(), sd, Backend.NATIVE, Device.cpu(),
                ModelOptions.builder().threads(1).build())) {
            for (Map.Entry<String, float[][]> e : whole.entrySet()) {
                float[][] steps = e.getValue();
                float[] x = new float[steps.length * 3];
                for (int t = 0; t < steps.length; t++) {
                    System.arraycopy(steps[t], 0, x, t * 3, 3);
                }
                LstmOutput ref = lstm.forward(Tensor.of(x, 1, steps.length, 3));
                List<LstmChunkResult> got = results.get(e.getKey());
                got.sort((a, b) -> Long.compare(a.seq, b.seq));
                List<float[]> joined = new ArrayList<>();
                got.forEach(r -> joined.addAll(Arrays.asList(r.output)));
                assertEquals(steps.length, joined.size(), "steps of " + e.getKey());
                for (int t = 0; t < steps.length; t++) {
                    for (int j = 0; j < 9; j++) {
                        assertEquals(Float.floatToIntBits(ref.output().floatData()[t * 9 + j]),
                                Float.floatToIntBits(joined.get(t)[j]), e.getKey() + " output[" + t + "][" + j + "]");
                    }
                }
                float[][] hN = got.get(got.size() - 1).hN;
                for (int l = 0; l < 2; l++) {
                    for (int j = 0; j < 9; j++) {
                        assertEquals(Float.floatToIntBits(ref.hN().floatData()[l * 9 + j]), Float.floatToIntBits(hN[l][j]),
                                e.getKey() + " h_n[" + l + "][" + j + "]");
                    }
                }
            }
        }
        System.out.printf("%d keys, %d chunks interleaved: every key bit for bit equal to one forward%n", keys, stream.size());
    }

    @Test
    void aKeyIdleLongerThanTheStateTtlStartsFromZeros() throws Exception {
        Path file = weights();
        float[][] first = {{0.5f, -1f, 2f}, {1f, 0.25f, -0.5f}};
        float[][] second = {{-0.75f, 1.5f, 0.1f}, {0.3f, -0.2f, 0.9f}, {2f, 0f, -1f}};
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setBufferTimeout(0);  // chunk 0 reaches the function at once, not after a buffer's timeout
        LstmKeyedFunction<String> function = LstmKeyedFunction.<String>builder(file.toString()).backend("native")
                .stateTtl(Duration.ofMillis(200)).build();
        List<LstmChunkResult> results = new ArrayList<>();
        try (CloseableIterator<LstmChunkResult> it = env.fromData(new LstmChunk("k", 0, first), new LstmChunk("k", 1, second))
                .setParallelism(1)
                .map(c -> {
                    if (c.seq == 1) {
                        Thread.sleep(1500);  // the key idles well past its 200 ms TTL
                    }
                    return c;
                }).returns(LstmChunk.class).setParallelism(1)
                .keyBy(c -> c.key).process(function).setParallelism(1).executeAndCollect()) {
            it.forEachRemaining(results::add);
        }
        results.sort((a, b) -> Long.compare(a.seq, b.seq));
        StateDict sd = StateDict.load(file);
        try (Lstm lstm = Lstm.create(LstmConfig.inferFrom(sd).batchFirst(true).build(), sd, Backend.NATIVE, Device.cpu())) {
            float[] fresh = lstm.forward(Tensor.of(flat(second), 1, 3, 3)).output().floatData();
            float[] continued = lstm.forward(Tensor.of(concat(flat(first), flat(second)), 1, 5, 3)).output().floatData();
            float[][] got = results.get(1).output;
            boolean differsFromContinuation = false;
            for (int t = 0; t < 3; t++) {
                for (int j = 0; j < 9; j++) {
                    assertEquals(Float.floatToIntBits(fresh[t * 9 + j]), Float.floatToIntBits(got[t][j]),
                            "chunk after the TTL: output[" + t + "][" + j + "] from zeros");
                    differsFromContinuation |= continued[(t + 2) * 9 + j] != got[t][j];
                }
            }
            assertTrue(differsFromContinuation, "the expired state must not have been used");
        }
    }

    private static float[] flat(float[][] rows) {
        float[] r = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, r, i * rows[0].length, rows[0].length);
        }
        return r;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void badWeightsFailWhenTheJobIsBuilt() throws Exception {
        Path pt = Path.of("src/test/resources/golden/proj_bilstm_l2_b4_t10_i8_h16_p6_hx.tagger.pt");
        IllegalArgumentException bi = assertThrows(IllegalArgumentException.class,
                () -> LstmKeyedFunction.builder(pt.toString()).prefix("encoder.").build());
        assertTrue(bi.getMessage().contains("a bidirectional LSTM cannot stream"), bi.getMessage());
        IllegalArgumentException prefix = assertThrows(IllegalArgumentException.class,
                () -> LstmKeyedFunction.builder(pt.toString()).prefix("decoder.").build());
        assertTrue(prefix.getMessage().contains("no tensor name starts with 'decoder.'"), prefix.getMessage());
        Path garbage = Files.write(tmp.resolve("garbage.pt"), new byte[] {'P', 'K', 3, 4, 0});
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> LstmKeyedFunction.builder(garbage.toString()).build());
        assertTrue(bad.getMessage().startsWith("weights '" + garbage + "'"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LstmKeyedFunction.builder(pt.toString()).stateTtl(Duration.ZERO));
    }
}
