package dev.lstm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small hostile files (built here, byte by byte) cannot make the readers allocate more than the file
 * holds, or than the documented bounds (docs/robustness.md); each is refused before anything large is
 * allocated, with the file and the tensor in the message. The allocation is measured per thread, so a
 * reader that allocated first and refused afterwards fails too.
 */
class HostileFilesTest {
    /** Far below any bomb here (GiBs), far above what reading their headers takes. */
    private static final long SMALL = 64L << 20;

    @TempDir
    Path dir;

    interface Load {
        Object run() throws IOException;
    }

    /** Bytes allocated by this thread while {@code load} runs, whatever it throws. */
    private static long allocatedBy(Load load) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(id);
        try {
            load.run();
        } catch (IOException | RuntimeException e) {
            // the caller checks the outcome separately
        }
        return mx.getThreadAllocatedBytes(id) - before;
    }

    private static InvalidFileException refusedSmall(Path file, String... fragments) {
        long bytes = allocatedBy(() -> StateDict.load(file));
        assertTrue(bytes < SMALL, file + ": the reader allocated " + bytes + " bytes before refusing");
        InvalidFileException e = assertThrows(InvalidFileException.class, () -> StateDict.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' lacks '" + f + "'");
        }
        return e;
    }

    private static byte[] floats(int n) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(i * 0.5f - 3);
        }
        return b.array();
    }

    // ---- .pt: issue 13 item 3 ----

    @Test
    void strideZeroViewsOfOneFloatAreRefused() throws IOException {
        // 8 views of 2^29 elements of a 1-element storage: 16 GiB from a file of a few hundred bytes.
        Checkpoints c = new Checkpoints().storage("0", floats(1));
        for (int i = 0; i < 8; i++) {
            c.key("w" + i).view("FloatStorage", "0", 1, 0, new long[] {1L << 29}, new long[] {0});
        }
        Path f = c.save(dir.resolve("stride0.pt"));
        refusedSmall(f, "tensor 'w0'", "stride 0 or overlapping");
    }

    @Test
    void aSmallExpandedBufferStillLoads() throws IOException {
        // torch.zeros(1).expand(1000) saved as is: legitimate, and within the extra-element allowance.
        Path f = new Checkpoints().storage("0", floats(2)).key("b").view("FloatStorage", "0", 2, 1,
                new long[] {10, 100}, new long[] {0, 0}).save(dir.resolve("expand.pt"));
        Tensor b = StateDict.load(f).get("b");
        assertArrayEquals(new int[] {10, 100}, b.shape());
        for (float v : b.floatData()) {
            assertEquals(-2.5f, v);
        }
    }

    @Test
    void oneTensorSharedThroughTheMemoIsReadOnce() throws IOException {
        // 2,000 entries naming one 4 MiB tensor through the pickle memo (tied weights, taken to the extreme).
        int n = 1 << 20;
        Checkpoints c = new Checkpoints().storage("0", floats(n));
        c.key("w0").view("FloatStorage", "0", n, 0, new long[] {n}, new long[] {1}).put(1);
        for (int i = 1; i < 2000; i++) {
            c.key("w" + i).get(1);
        }
        Path f = c.save(dir.resolve("memo.pt"));
        long bytes = allocatedBy(() -> StateDict.load(f));
        assertTrue(bytes < SMALL, "2,000 entries of one 4 MiB tensor allocated " + bytes + " bytes");
        StateDict sd = StateDict.load(f);
        assertEquals(2000, sd.asMap().size());
        assertSame(sd.get("w0"), sd.get("w1999"), "identical views share one array");
        assertEquals(n * 0.5f - 3.5f, sd.get("w1234").floatData()[n - 1]);
    }

    @Test
    void distinctOverlappingViewsAreBoundedByTheStorage() throws IOException {
        // 2,000 different views (offset k) of one 4 MiB storage: 8 GB of tensors from a 4.3 MB file.
        int n = 1 << 20;
        int len = n - 2000;
        Checkpoints c = new Checkpoints().storage("0", floats(n));
        for (int i = 0; i < 2000; i++) {
            c.key("w" + i).view("FloatStorage", "0", n, i, new long[] {len}, new long[] {1});
        }
        Path f = c.save(dir.resolve("overlap.pt"));
        // held 2^20 + allowance 2^24 elements: the 18th view (w17) is the first past them.
        refusedSmall(f, "tensor 'w17'", "more than the " + n + " their storages hold plus " + (1 << 24));
    }

    @Test
    void viewsOfOneFlatBufferLoadWithTheirValues() throws IOException {
        // cuDNN's flattened LSTM weights: several non-overlapping views of one storage, at offsets.
        Path f = new Checkpoints().storage("0", floats(30))
                .key("a").view("FloatStorage", "0", 30, 4, new long[] {2, 3}, new long[] {3, 1})
                .key("b").view("FloatStorage", "0", 30, 20, new long[] {3, 2}, new long[] {1, 3}) // transposed
                .save(dir.resolve("flat.pt"));
        StateDict sd = StateDict.load(f);
        assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1, 1.5f}, sd.get("a").floatData());
        // b[i][j] = storage[20 + i + 3j] = (20 + i + 3j) * 0.5 - 3
        assertArrayEquals(new float[] {7, 8.5f, 7.5f, 9, 8, 9.5f}, sd.get("b").floatData());
    }

    @Test
    void aDeflateBombIsRefusedByItsDeclaredSize() throws IOException {
        // 128 MiB of zeros deflate to about 128 KB; four tensors view all of it (the old reader
        // inflated it four times, into 1 GiB of arrays).
        long bytes = 128L << 20;
        Checkpoints c = new Checkpoints().zeroStorage("0", bytes);
        for (int i = 0; i < 4; i++) {
            c.key("w" + i).view("FloatStorage", "0", bytes / 4, 0, new long[] {bytes / 4}, new long[] {1});
        }
        Path f = c.save(dir.resolve("bomb.pt"));
        assertTrue(Files.size(f) < 2 << 20, "the bomb is small: " + Files.size(f));
        refusedSmall(f, "tensor 'w0'", "would inflate", "torch.save stores storages uncompressed");
    }

    @Test
    void zipEntriesSharingTheirBytesAreRefused() throws IOException {
        // An archive whose central directory names the bytes of one 4 MiB stored entry 100
        // times (data/0 .. data/99 at the same offset): 400 MiB of storages in a 4 MB file.
        int n = 1 << 20;
        Checkpoints c = new Checkpoints().storage("0", floats(n));
        for (int i = 0; i < 100; i++) {
            c.key("w" + i).view("FloatStorage", Integer.toString(i), n, 0, new long[] {n}, new long[] {1});
        }
        Path f = c.save(dir.resolve("shared.pt"));
        byte[] zip = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = zip.length - 22; // no archive comment
        int cenSize = b.getInt(eocd + 12);
        int cenOffset = b.getInt(eocd + 16);
        java.io.ByteArrayOutputStream cen = new java.io.ByteArrayOutputStream();
        cen.write(zip, cenOffset, cenSize);
        int entries = b.getShort(eocd + 10);
        for (int at = cenOffset; at < cenOffset + cenSize; ) {
            int nameLen = b.getShort(at + 28);
            int len = 46 + nameLen + b.getShort(at + 30) + b.getShort(at + 32);
            if (new String(zip, at + 46, nameLen, StandardCharsets.UTF_8).equals("archive/data/0")) {
                for (int k = 1; k < 100; k++) {
                    byte[] name = ("archive/data/" + k).getBytes(StandardCharsets.UTF_8);
                    ByteBuffer rec = ByteBuffer.allocate(46 + name.length).order(ByteOrder.LITTLE_ENDIAN);
                    rec.put(zip, at, 46).putShort(28, (short) name.length).putShort(30, (short) 0)
                            .putShort(32, (short) 0).position(46);
                    rec.put(name);
                    cen.writeBytes(rec.array());
                    entries++;
                }
            }
            at += len;
        }
        ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN).put(zip, eocd, 22);
        end.putShort(8, (short) entries).putShort(10, (short) entries).putInt(12, cen.size());
        Path shared = dir.resolve("shared2.pt");
        try (var out = Files.newOutputStream(shared)) {
            out.write(zip, 0, cenOffset);
            out.write(cen.toByteArray());
            out.write(end.array());
        }
        refusedSmall(shared, "the storages' entries add up to", "the archive's entries overlap");
    }

    @Test
    void aCompressedCheckpointOfRealWeightsLoads() throws IOException {
        Path f = new Checkpoints().deflateStorages().storage("0", floats(5000))
                .key("w").view("FloatStorage", "0", 5000, 0, new long[] {50, 100}, new long[] {100, 1})
                .save(dir.resolve("deflated.pt"));
        assertEquals(4999 * 0.5f - 3, StateDict.load(f).get("w").floatData()[4999]);
    }

    // ---- .pt: issue 13 item 13 (sizes as big integers or floats) ----

    @Test
    void sizesBeyond64BitsOrAsFloatsAreRefusedNotTruncated() throws IOException {
        Checkpoints big = new Checkpoints().storage("0", floats(4));
        big.key("w").view("FloatStorage", "0", () -> big.integer(4), () -> big.integer(0),
                () -> big.raw('(').longInteger(BigInteger.TWO.pow(64).add(BigInteger.valueOf(4))).raw('t'),
                () -> big.tuple(1));
        refusedSmall(big.save(dir.resolve("big.pt")), "size 18446744073709551620 does not fit 64 bits");

        Checkpoints flt = new Checkpoints().storage("0", floats(4));
        flt.key("w").view("FloatStorage", "0", () -> flt.integer(4), () -> flt.integer(0),
                () -> flt.raw('(').binfloat(4.0).raw('t'), () -> flt.tuple(1));
        refusedSmall(flt.save(dir.resolve("float.pt")), "size is a Double (4.0), not an integer");

        Checkpoints numel = new Checkpoints().storage("0", floats(4));
        numel.key("w").view("FloatStorage", "0", () -> numel.longInteger(BigInteger.ONE.shiftLeft(70)),
                () -> numel.integer(0), () -> numel.tuple(4), () -> numel.tuple(1));
        refusedSmall(numel.save(dir.resolve("numel.pt")), "numel 1180591620717411303424 does not fit 64 bits");
    }

    // ---- safetensors: issue 13 items 3 and 4 ----

    /** A safetensors file from a header and data written at the given positions of an otherwise empty data section. */
    private Path safetensors(String name, String header, long dataLen, Map<Long, byte[]> writes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.setLength(8 + h.length + dataLen); // sparse: the zeros take no disk
            for (Map.Entry<Long, byte[]> w : writes.entrySet()) {
                raf.seek(8 + h.length + w.getKey());
                raf.write(w.getValue());
            }
        }
        return f;
    }

    @Test
    void safetensorsEntriesNamingOneRangeAreRefusedBeforeAllocating() throws IOException {
        // 200 entries naming the same 4 MiB: the old reader allocated all of them, then found the overlap.
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < 200; i++) {
            h.append(i == 0 ? "" : ",").append("\"w").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[1048576],")
                    .append("\"data_offsets\":[0,4194304]}");
        }
        Path f = safetensors("same.safetensors", h.append('}').toString(), 4 << 20, Map.of());
        refusedSmall(f, "tensor data ranges overlap at byte 0");
    }

    @Test
    void safetensorsGapsAndTrailingBytesAreRefused() throws IOException {
        Path gap = safetensors("gap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, Map.of());
        refusedSmall(gap, "data bytes 4..8 belong to no tensor (before tensor 'b')");
        Path tail = safetensors("tail.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                1 << 30, Map.of());
        refusedSmall(tail, "1073741820 data bytes after the last tensor belong to no tensor");
    }

    @Test
    void tensorsSpanningManyChunksLoadExactly() throws IOException {
        // Every dtype the reader converts, each larger than one read chunk, ending off a chunk boundary.
        int n = Safetensors.CHUNK_BYTES / 2 + 3; // F32: 2 chunks and a bit; F16: 1 chunk and a bit
        ByteBuffer f32 = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer f64 = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer f16 = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer i64 = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            f32.putFloat(i + 0.25f);
            f64.putDouble(i * 1e-3);
            f16.putShort((short) (i & 0x3ff | 0x3c00)); // 1 + m / 1024
            bf16.putShort((short) (i & 0x7f | 0x4000)); // 2 + 2 m / 128
            i64.putLong(-3L * i);
        }
        long o1 = 4L * n;
        long o2 = o1 + 8L * n;
        long o3 = o2 + 2L * n;
        long o4 = o3 + 2L * n;
        long end = o4 + 8L * n;
        String header = "{\"f32\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + o1 + "]},"
                + "\"f64\":{\"dtype\":\"F64\",\"shape\":[" + n + "],\"data_offsets\":[" + o1 + "," + o2 + "]},"
                + "\"f16\":{\"dtype\":\"F16\",\"shape\":[" + n + "],\"data_offsets\":[" + o2 + "," + o3 + "]},"
                + "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[" + n + "],\"data_offsets\":[" + o3 + "," + o4 + "]},"
                + "\"i64\":{\"dtype\":\"I64\",\"shape\":[" + n + "],\"data_offsets\":[" + o4 + "," + end + "]}}";
        Path f = safetensors("chunks.safetensors", header, end, Map.of(0L, f32.array(), o1, f64.array(), o2,
                f16.array(), o3, bf16.array(), o4, i64.array()));
        Safetensors.Contents c = Safetensors.read(f);
        for (int i : new int[] {0, 1, n / 2, Safetensors.CHUNK_BYTES / 8, Safetensors.CHUNK_BYTES / 4 + 1, n - 1}) {
            assertEquals(i + 0.25f, c.tensors().get("f32").floatData()[i], "f32 " + i);
            assertEquals(i * 1e-3, c.tensors().get("f64").doubleData()[i], "f64 " + i);
            assertEquals(1 + (i & 0x3ff) / 1024f, c.tensors().get("f16").floatData()[i], "f16 " + i);
            assertEquals(2 + 2 * (i & 0x7f) / 128f, c.tensors().get("bf16").floatData()[i], "bf16 " + i);
            assertEquals(-3L * i, c.int64Tensors().get("i64")[i], "i64 " + i);
        }
    }

    @Test
    void aTensorOfMoreThan2GiBUpToTheArrayLimitLoads() throws IOException {
        // 2^29 + 1 float32 elements: 2 GiB + 4 bytes (the old reader cast the byte count to int).
        Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() >= (3L << 30),
                "needs a 3 GiB heap for the 2 GiB array; this JVM has " + Runtime.getRuntime().maxMemory());
        long n = (1L << 29) + 1;
        Map<Long, byte[]> marks = Map.of(0L, le(1.5f), 4L * (n - 1), le(-7f), (long) Safetensors.CHUNK_BYTES, le(3f),
                (1L << 31) - 4, le(42f));
        Path f = safetensors("big.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0,"
                + 4 * n + "]}}", 4 * n, marks);
        float[] w = Safetensors.read(f).tensors().get("w").floatData();
        assertEquals(n, w.length);
        assertEquals(1.5f, w[0]);
        assertEquals(3f, w[Safetensors.CHUNK_BYTES / 4]);
        assertEquals(42f, w[(1 << 29) - 1]);
        assertEquals(-7f, w[(int) n - 1]);
        assertEquals(0f, w[12345]);
    }

    @Test
    void aTensorBeyondTheArrayLimitIsAClearError() throws IOException {
        long n = Integer.MAX_VALUE - 7L; // one more than a Java array holds
        Path f = safetensors("huge.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0,"
                + 4 * n + "]}}", 4 * n, Map.of());
        refusedSmall(f, "tensor 'w' has 2147483640 elements, more than a Java array holds (2147483639)");
        // A dtype the LSTM never reads is only checked, not read: any size the file holds is fine.
        Path i8 = safetensors("i8.safetensors", "{\"mask\":{\"dtype\":\"I8\",\"shape\":[65536,65536],"
                + "\"data_offsets\":[0," + (1L << 32) + "]}}", 1L << 32, Map.of());
        assertEquals("int8 [65536, 65536]", StateDict.load(i8).otherEntries().get("mask"));
    }

    private static byte[] le(float v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
    }

    // ---- safetensors: issue 13 item 13 ----

    @Test
    void aHeaderLengthThatReadsAsAZipMagicIsStillSafetensors() throws IOException {
        // 67,324,752 = 0x04034B50: the length's bytes are "PK\3\4", a zip's local header magic.
        StringBuilder h = new StringBuilder("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}");
        h.append(" ".repeat(67_324_752 - h.length())); // the format pads headers with spaces
        Path f = safetensors("pk.safetensors", h.toString(), 8, Map.of(0L, le(2.5f), 4L, le(-1f)));
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(f)) {
            assertEquals(4, in.read(head));
        }
        assertTrue(TorchCheckpoint.isZip(head), "the file starts with the zip magic");
        assertArrayEquals(new float[] {2.5f, -1f}, StateDict.load(f).get("w").floatData());
        assertFalse(Safetensors.looksLikeSafetensors(new Checkpoints().storage("0", floats(1)).key("w")
                .view("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}).save(dir.resolve("w.pt"))));
    }
}
