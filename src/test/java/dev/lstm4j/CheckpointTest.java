package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.io.Checkpoints;
import dev.lstm4j.tools.golden.GoldenCase;
import dev.lstm4j.io.InvalidFileException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * PyTorch checkpoints ({@code torch.save(state_dict)}, plain and inside a larger model under
 * {@code encoder.}) load in Java, give the configuration of their golden case, and reproduce its
 * outputs on every backend; hostile pickles are refused by name.
 */
class CheckpointTest {
    @TempDir
    Path dir;

    static Path checkpointDir() {
        try {
            return Path.of(CheckpointTest.class.getResource("/checkpoints").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<Arguments> checkpoints() throws IOException {
        List<Arguments> args = new ArrayList<>();
        try (Stream<Path> s = Files.list(checkpointDir())) {
            for (Path p : s.filter(f -> f.toString().endsWith(".pt")).sorted().toList()) {
                String file = p.getFileName().toString();
                boolean tagger = file.endsWith(".tagger.pt");
                String caseName = file.substring(0, file.length() - (tagger ? ".tagger.pt" : ".pt").length());
                for (Backend b : Backend.values()) {
                    args.add(Arguments.of(file, caseName, tagger ? "encoder." : "", b));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} prefix='{2}' {3}")
    @MethodSource("checkpoints")
    void checkpointReproducesItsCase(String file, String caseName, String prefix, Backend backend) throws IOException {
        GoldenCase c = GoldenCase.load(TestSupport.goldenDir().resolve(caseName + ".safetensors"));
        StateDict weights = StateDict.load(checkpointDir().resolve(file)).withPrefix(prefix);
        LstmConfig config = LstmConfig.inferFrom(weights).batchFirst(c.lstmConfig().batchFirst()).build();
        assertEquals(c.lstmConfig(), config, "inferred configuration");
        try (Lstm lstm = Lstm.create(config, weights, backend, Device.cpu())) {
            LstmOutput out = lstm.forward(c.tensor("input"), c.tensor("h0"), c.tensor("c0"));
            double err = Math.max(out.output().maxAbsDiff(c.tensor("output")),
                    Math.max(out.hN().maxAbsDiff(c.tensor("h_n")), out.cN().maxAbsDiff(c.tensor("c_n"))));
            assertTrue(err <= c.tolerance(), file + " on " + backend + ": max_abs_err " + err);
        }
    }

    @Test
    void taggerWithoutPrefixSaysWhatItHolds() throws IOException {
        StateDict all = StateDict.load(checkpointDir().resolve("lstm_l2_b8_t32_i64_h128.tagger.pt"));
        assertTrue(all.asMap().containsKey("embed.weight") && all.asMap().containsKey("encoder.weight_ih_l0"),
                all.asMap().keySet().toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LstmConfig.inferFrom(all));
        assertTrue(e.getMessage().startsWith("weights: not a torch.nn.LSTM state_dict"), e.getMessage());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> all.withPrefix("decoder."));
        assertTrue(p.getMessage().contains("prefixes present: [embed., encoder., head.]"), p.getMessage());
    }

    /** A pickle naming os.system is refused before anything is built, with the global in the message. */
    @Test
    void hostileGlobalsAreRefusedByName() throws IOException {
        // protocol 2: GLOBAL 'os system', a 1-tuple ('ls',), REDUCE, STOP
        byte[] pickle = bytes("\u0080\u0002cos\nsystem\nX\u0002\u0000\u0000\u0000ls\u0085R.");
        assertRefused(zip("evil", pickle), "refuses the global os.system");
        byte[] eval = bytes("\u0080\u0002cbuiltins\neval\nX\u0001\u0000\u0000\u00001\u0085R.");
        assertRefused(zip("evil2", eval), "refuses the global builtins.eval");
        // STACK_GLOBAL (protocol 4) names are checked the same way.
        byte[] stack = bytes("\u0080\u0004\u008c\u0007subproc\u008c\u0004call\u0093).");
        assertRefused(zip("evil3", stack), "refuses the global subproc.call");
    }

    @Test
    void brokenCheckpointsFailWithTheFileAndTheProblem() throws IOException {
        Path notZip = dir.resolve("junk.pt");
        Files.writeString(notZip, "PK\u0003\u0004 and then nothing");
        InvalidFileException e = assertThrows(InvalidFileException.class, () -> StateDict.load(notZip));
        assertTrue(e.getMessage().startsWith(notZip.toString()), e.getMessage());
        Path noPickle = zip("empty", null);
        assertTrue(assertThrows(InvalidFileException.class, () -> StateDict.load(noPickle)).getMessage()
                .contains("no <archive>/data.pkl"));
        // A tensor whose storage record is missing from the archive.
        Path good = checkpointDir().resolve("proj_bilstm_l2_b4_t10_i8_h16_p6_hx.pt");
        Path stripped = dir.resolve("stripped.pt");
        try (java.util.zip.ZipFile in = new java.util.zip.ZipFile(good.toFile());
                ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(stripped))) {
            for (ZipEntry entry : java.util.Collections.list(in.entries())) {
                if (entry.getName().matches(".*/data/0")) {
                    continue;
                }
                out.putNextEntry(new ZipEntry(entry.getName()));
                in.getInputStream(entry).transferTo(out);
                out.closeEntry();
            }
        }
        InvalidFileException m = assertThrows(InvalidFileException.class, () -> StateDict.load(stripped));
        assertTrue(m.getMessage().contains("storage data/0 is missing"), m.getMessage());
    }

    /**
     * Issue 13 item 8: what torch.load(weights_only=True) loads loads here too. A tagger with a BatchNorm
     * (int64 num_batches_tracked), a bool mask, an int32 tensor, a quantized tensor and a parameter wrapper
     * around its LSTM: the LSTM under its prefix runs and reproduces its golden case on every backend.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Backend.class)
    void aCheckpointWithBatchNormAndOtherDtypesLoads(Backend backend) throws IOException {
        GoldenCase c = GoldenCase.load(TestSupport.goldenDir().resolve("proj_l1_b2_t3_i4_h5_p3_hx.safetensors"));
        Checkpoints ck = new Checkpoints();
        ck.storage("bn", new byte[32]).key("bn.running_mean").view("FloatStorage", "bn", 8, 0, new long[] {4},
                new long[] {1});
        ck.storage("nbt", new byte[] {3, 0, 0, 0, 0, 0, 0, 0}).key("bn.num_batches_tracked")
                .view("LongStorage", "nbt", 1, 0, new long[0], new long[0]);
        ck.storage("mask", new byte[] {1, 0, 1, 1}).key("mask").view("BoolStorage", "mask", 4, 0, new long[] {2, 2},
                new long[] {2, 1});
        ck.storage("ids", new byte[8]).key("ids").view("IntStorage", "ids", 2, 0, new long[] {2}, new long[] {1});
        ck.key("q").call("torch._utils", "_rebuild_qtensor");
        c.weights().asMap().forEach((k, v) -> ck.floatTensor("encoder." + k, v));
        Path file = ck.save(dir.resolve("tagger.pt"));
        StateDict all = StateDict.load(file);
        assertEquals("int64 []", all.otherEntries().get("bn.num_batches_tracked"));
        assertEquals("bool [2, 2]", all.otherEntries().get("mask"));
        assertEquals("int32 [2]", all.otherEntries().get("ids"));
        assertTrue(all.otherEntries().get("q").contains("a quantized tensor"), all.otherEntries().toString());
        assertEquals(4, all.get("bn.running_mean").numel());
        StateDict weights = all.withPrefix("encoder.");
        assertEquals(Map.of(), weights.otherEntries());
        try (Lstm lstm = Lstm.create(LstmConfig.inferFrom(weights).batchFirst(c.lstmConfig().batchFirst()).build(), weights,
                backend, Device.cpu())) {
            LstmOutput out = lstm.forward(c.tensor("input"), c.tensor("h0"), c.tensor("c0"));
            double err = Math.max(out.output().maxAbsDiff(c.tensor("output")), out.cN().maxAbsDiff(c.tensor("c_n")));
            assertTrue(err <= c.tolerance(), backend + ": max_abs_err " + err);
        }
        // A prefix that selects only entries the reader does not read still selects them.
        assertEquals(Map.of("_batches_tracked", "int64 []"), all.withPrefix("bn.num").otherEntries());
    }

    /** An LSTM weight of an integer dtype is named, with its dtype; torch.load is not blamed. */
    @Test
    void anLstmWeightOfAnIntegerDtypeSaysWhichAndWhy() throws IOException {
        GoldenCase c = GoldenCase.load(TestSupport.goldenDir().resolve("proj_l1_b2_t3_i4_h5_p3_hx.safetensors"));
        Checkpoints ck = new Checkpoints();
        c.weights().asMap().forEach((k, v) -> {
            if (k.equals("weight_ih_l0")) {
                ck.storage("long", new byte[8 * 80]).key(k).view("LongStorage", "long", 80, 0, new long[] {20, 4},
                        new long[] {4, 1});
            } else {
                ck.floatTensor(k, v);
            }
        });
        StateDict w = StateDict.load(ck.save(dir.resolve("int.pt")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.create(c.lstmConfig(), w, Backend.JAVA, Device.cpu()));
        assertTrue(e.getMessage().contains("weight_ih_l0: expected float32 of shape [20, 4], got int64 [20, 4] (an LSTM "
                + "takes floating-point weights"), e.getMessage());
        assertFalse(e.getMessage().contains("weights_only"), e.getMessage());
    }

    /** _rebuild_parameter (a saved nn.Parameter) and a float16 storage load as float32 tensors. */
    @Test
    void parametersAndHalfStoragesLoad() throws IOException {
        Checkpoints ck = new Checkpoints().storage("h", new byte[] {0, 0x3c, 0, (byte) 0xc0});
        ck.key("p").raw('c').raw("torch._utils\n_rebuild_parameter\n".chars().toArray()).raw('(');
        ck.view("HalfStorage", "h", 2, 0, new long[] {2}, new long[] {1});
        ck.raw(0x88, ')', 't', 'R'); // (tensor, True, ()) -> Parameter
        StateDict sd = StateDict.load(ck.save(dir.resolve("param.pt")));
        assertArrayEquals(new float[] {1f, -2f}, sd.get("p").floatData());
    }

    private static void assertRefused(Path file, String expected) {
        InvalidFileException e = assertThrows(InvalidFileException.class, () -> StateDict.load(file));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private Path zip(String name, byte[] pickle) throws IOException {
        Path p = dir.resolve(name + ".pt");
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(os)) {
            z.putNextEntry(new ZipEntry(name + "/version"));
            z.write(bytes("3\n"));
            z.closeEntry();
            if (pickle != null) {
                z.putNextEntry(new ZipEntry(name + "/data.pkl"));
                z.write(pickle);
                z.closeEntry();
            }
        }
        return p;
    }
}
