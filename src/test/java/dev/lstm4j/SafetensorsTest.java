package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.io.InvalidFileException;
import dev.lstm4j.io.Safetensors;
import dev.lstm4j.tools.golden.GoldenCase;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trip of the safetensors reader and writer, and clear errors for broken files. */
class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTrip() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", Tensor.of(new float[] {1.5f, -2f, 3f, 4f, 5f, 6f}, 2, 3));
        m.put("b", Tensor.of(new double[] {Math.PI}, 1));
        m.put("lengths", new long[] {3, 1, 2});
        Path f = dir.resolve("x.safetensors");
        Safetensors.write(f, m, Map.of("kind", "test"));
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals("test", c.metadata().get("kind"));
        assertArrayEquals(new float[] {1.5f, -2f, 3f, 4f, 5f, 6f}, c.tensors().get("a").floatData());
        assertArrayEquals(new int[] {2, 3}, c.tensors().get("a").shape());
        assertEquals(Math.PI, c.tensors().get("b").doubleData()[0]);
        assertArrayEquals(new long[] {3, 1, 2}, c.int64Tensors().get("lengths"));
    }

    @Test
    void readsPyTorchGoldenFile() throws Exception {
        Safetensors.Contents c = Safetensors.read(TestSupport.goldenDir().resolve("cell_b3_i5_h7_hx.safetensors"));
        assertArrayEquals(new int[] {28, 5}, c.tensors().get("weight_ih").shape());
        assertEquals("cell", c.metadata().get("kind"));
    }

    private Path raw(String header, int dataBytes) throws Exception {
        return raw(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private Path raw(byte[] h, int dataBytes) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("bad" + System.nanoTime() + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    private static void assertProblem(String fragment, Path f) {
        InvalidFileException e = assertThrows(InvalidFileException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), "message names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void brokenFilesAreRejectedWithTheReason() throws Exception {
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertProblem("truncated", tiny);
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertProblem("header length", huge);
        assertProblem("not valid JSON", raw("{\"a\": {", 0));
        assertProblem("unknown dtype F12", raw("{\"a\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4));
        assertProblem("out of range", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8));
        assertProblem("needs 12 bytes", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8));
        assertProblem("overflows", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],"
                + "\"data_offsets\":[0,8]}}", 8));
        assertProblem("overlap", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
        byte[] good = Files.readAllBytes(TestSupport.goldenDir().resolve("tiny_l1_b1_t1_i1_h1_hx.safetensors"));
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(good, good.length - 9));
        assertProblem("out of range", cut);
    }

    /** Issue 13 item 13: the header is UTF-8 and JSON exactly as RFC 8259 and the reference parser say. */
    @Test
    void lenientHeadersAreRefused() throws Exception {
        String tail = "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] badUtf8 = ("{\"a\u00ff" + tail).getBytes(StandardCharsets.ISO_8859_1); // 0xFF is never UTF-8
        assertProblem("header is not valid UTF-8 (byte 11)", raw(badUtf8, 4));
        byte[] surrogateUtf8 = ("{\"a" + tail).getBytes(StandardCharsets.UTF_8);
        byte[] cesu = new byte[surrogateUtf8.length + 3]; // U+D800 encoded in three bytes (CESU-8)
        System.arraycopy(surrogateUtf8, 0, cesu, 0, 3);
        cesu[3] = (byte) 0xED;
        cesu[4] = (byte) 0xA0;
        cesu[5] = (byte) 0x80;
        System.arraycopy(surrogateUtf8, 3, cesu, 6, surrogateUtf8.length - 3);
        assertProblem("not valid UTF-8", raw(cesu, 4));
        assertProblem("bad \\u escape '\\u+041'", raw("{\"\\u+041" + tail, 4));
        assertProblem("lone surrogate \\ud800", raw("{\"\\ud800" + tail, 4));
        assertProblem("lone surrogate \\ud800", raw("{\"\\ud800\\u0041" + tail, 4));
        assertProblem("lone surrogate \\udc00", raw("{\"\\udc00" + tail, 4));
        assertProblem("leading zero", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4));
        assertProblem("leading zero", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[00,4]}}", 4));
        assertProblem("bad number '-'", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-],\"data_offsets\":[0,4]}}", 4));
        assertProblem("no digit after the point", raw("{\"__metadata__\":{},\"x\":1.}", 0));
        assertProblem("no digit in the exponent", raw("{\"x\":1e+}", 0));
        assertProblem("does not start with '{'", raw(" {\"a" + tail, 4));
        // What the format does allow: an escaped surrogate pair, padding spaces at the end.
        Path ok = raw("{\"\\ud83d\\ude00" + tail + "   ", 4);
        assertEquals(Set.of("\uD83D\uDE00"), Safetensors.read(ok).tensors().keySet());
    }

    /** Issue 13 item 8: every dtype safetensors has loads; only the LSTM's own tensors must be floating point. */
    @Test
    void everyDtypeLoadsAndOnlyTheLstmsTensorsMatter() throws Exception {
        GoldenCase g = GoldenCase.load(TestSupport.goldenDir().resolve("proj_l1_b2_t3_i4_h5_p3_hx.safetensors"));
        Map<String, Object> m = new LinkedHashMap<>();
        g.weights().asMap().forEach((k, v) -> m.put("rnn." + k, v));
        Path lstm = dir.resolve("lstm.safetensors");
        Safetensors.write(lstm, m, Map.of());
        // Append tensors of every other dtype by rewriting the header (data after the LSTM's).
        byte[] file = Files.readAllBytes(lstm);
        long headerLen = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(file, 8, (int) headerLen, StandardCharsets.UTF_8).trim();
        byte[] data = Arrays.copyOfRange(file, 8 + (int) headerLen, file.length);
        long at = data.length;
        StringBuilder h = new StringBuilder(header.substring(0, header.length() - 1));
        java.io.ByteArrayOutputStream extra = new java.io.ByteArrayOutputStream();
        Object[][] more = {
            {"bn.num_batches_tracked", "I64", "[]", new byte[] {7, 0, 0, 0, 0, 0, 0, 0}},
            {"mask", "BOOL", "[3]", new byte[] {1, 0, 1}},
            {"half", "F16", "[4]", new byte[] {0, 0x3c, 0, (byte) 0xc0, (byte) 0xff, 0x7b, 1, 0}},
            {"bhalf", "BF16", "[2]", new byte[] {(byte) 0x80, 0x3f, 0x49, 0x40}},
            {"ids", "I32", "[2]", new byte[] {1, 0, 0, 0, 2, 0, 0, 0}},
            {"u8", "U8", "[1]", new byte[] {9}},
            {"i8", "I8", "[1]", new byte[] {-9}},
            {"i16", "I16", "[1]", new byte[] {1, 1}},
            {"d", "F64", "[1]", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).array()},
        };
        for (Object[] t : more) {
            byte[] b = (byte[]) t[3];
            h.append(",\"").append(t[0]).append("\":{\"dtype\":\"").append(t[1]).append("\",\"shape\":").append(t[2])
                    .append(",\"data_offsets\":[").append(at).append(',').append(at + b.length).append("]}");
            extra.write(b);
            at += b.length;
        }
        Path all = raw(h.append('}').toString(), 0);
        try (OutputStream out = Files.newOutputStream(all, java.nio.file.StandardOpenOption.APPEND)) {
            out.write(data);
            out.write(extra.toByteArray());
        }
        StateDict sd = StateDict.load(all);
        assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f}, sd.get("half").floatData());
        assertArrayEquals(new float[] {1f, 3.140625f}, sd.get("bhalf").floatData());
        assertEquals(0.1, sd.get("d").doubleData()[0]);
        assertEquals("int64 []", sd.otherEntries().get("bn.num_batches_tracked"));
        assertEquals("bool [3]", sd.otherEntries().get("mask"));
        assertEquals("int32 [2]", sd.otherEntries().get("ids"));
        assertEquals(Set.of("bn.num_batches_tracked", "mask", "ids", "u8", "i8", "i16"), sd.otherEntries().keySet());
        StateDict rnn = sd.withPrefix("rnn.");
        try (Lstm model = Lstm.create(LstmConfig.inferFrom(rnn).batchFirst(g.lstmConfig().batchFirst()).build(), rnn, Backend.JAVA, Device.cpu())) {
            LstmOutput out = model.forward(g.tensor("input"), g.tensor("h0"), g.tensor("c0"));
            assertTrue(out.output().maxAbsDiff(g.tensor("output")) <= g.tolerance());
        }
        // A name the LSTM needs, in a dtype it cannot take: said so, without blaming torch.load.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.create(g.lstmConfig(), renamed(sd, "ids", "weight_hh_l0", rnn), Backend.JAVA, Device.cpu()));
        assertTrue(e.getMessage().contains("weight_hh_l0: expected float32 of shape [20, 3], got int32 [2] "
                + "(an LSTM takes floating-point weights"), e.getMessage());
        assertFalse(e.getMessage().contains("weights_only"), e.getMessage());
    }

    /** {@code base} without {@code target}, plus {@code other}'s entry {@code source} named {@code target}. */
    private StateDict renamed(StateDict other, String source, String target, StateDict base) throws Exception {
        // Written and read back as a file, the way such a state_dict arrives.
        Map<String, Object> m = new LinkedHashMap<>(base.asMap());
        m.remove(target);
        Path f = dir.resolve("renamed.safetensors");
        Safetensors.write(f, m, Map.of());
        byte[] file = Files.readAllBytes(f);
        long headerLen = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(file, 8, (int) headerLen, StandardCharsets.UTF_8).trim();
        long dataLen = file.length - 8 - headerLen;
        assertEquals("int32 [2]", other.otherEntries().get(source));
        String h = header.substring(0, header.length() - 1) + ",\"" + target + "\":{\"dtype\":\"I32\",\"shape\":[2],"
                + "\"data_offsets\":[" + dataLen + "," + (dataLen + 8) + "]}}";
        Path out = raw(h, 0);
        try (OutputStream o = Files.newOutputStream(out, java.nio.file.StandardOpenOption.APPEND)) {
            o.write(file, 8 + (int) headerLen, (int) dataLen);
            o.write(new byte[8]);
        }
        return StateDict.load(out);
    }
}
