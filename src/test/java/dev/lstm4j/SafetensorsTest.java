package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.io.InvalidFileException;
import dev.lstm4j.io.Safetensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
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
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
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
        assertProblem("unsupported dtype BF16", raw("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4));
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
}
