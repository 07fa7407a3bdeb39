package dev.lstm4j.io;

import dev.lstm4j.DType;
import dev.lstm4j.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format
 * that PyTorch users save with {@code safetensors.torch.save_file}: an 8-byte little-endian header
 * length, a JSON header, then raw little-endian tensor data.
 *
 * <p>Reading validates the whole header before it allocates any tensor, with the reference
 * implementation's rules: the header is strict UTF-8 JSON starting with '{', every tensor's byte
 * range matches its dtype and shape (overflow-checked), and the ranges, sorted, tile the data
 * section exactly (no overlap, no gap, nothing after the last). So the arrays a file makes the
 * reader allocate are at most as large as its data (twice for float16 and bfloat16, which become
 * float32), and a truncated or hostile file gives an {@link InvalidFileException} naming the file,
 * the tensor and the problem. Data is read in chunks, so a tensor loads up to the Java array limit.
 *
 * <p>F32 and F64 tensors are returned as {@link Tensor}s, F16 and BF16 converted exactly to
 * float32; I64 tensors as {@code long[]} (e.g. sequence lengths); tensors of the other dtypes
 * (BOOL, U8, I8, I16, U16, I32, U32, U64, the float8 types, ...) are checked but not read, and
 * listed by {@link Contents#otherTensors()}.
 */
public final class Safetensors {
    /** Headers larger than this are refused (the reference implementation's bound). */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Tensor data is read through a buffer of this size, so no byte count is ever cast to int. */
    static final int CHUNK_BYTES = 1 << 20;
    /** The most elements a Java array is sure to hold. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private Safetensors() {
    }

    /** The contents of one safetensors file. */
    public static final class Contents {
        private final Map<String, String> metadata;
        private final Map<String, Tensor> tensors;
        private final Map<String, long[]> int64Tensors;
        private final Map<String, int[]> int64Shapes;
        private final Map<String, String> otherTensors;

        Contents(Map<String, String> metadata, Map<String, Tensor> tensors, Map<String, long[]> int64Tensors,
                Map<String, int[]> int64Shapes, Map<String, String> otherTensors) {
            this.metadata = Collections.unmodifiableMap(metadata);
            this.tensors = Collections.unmodifiableMap(tensors);
            this.int64Tensors = Collections.unmodifiableMap(int64Tensors);
            this.int64Shapes = Collections.unmodifiableMap(int64Shapes);
            this.otherTensors = Collections.unmodifiableMap(otherTensors);
        }

        /** The {@code __metadata__} string map (empty if absent). */
        public Map<String, String> metadata() {
            return metadata;
        }

        /** The floating-point tensors (F32, F64; F16 and BF16 as float32), in file order. */
        public Map<String, Tensor> tensors() {
            return tensors;
        }

        /** The int64 tensors (flat data), in file order. */
        public Map<String, long[]> int64Tensors() {
            return int64Tensors;
        }

        /** Shape of an int64 tensor. */
        public int[] int64Shape(String name) {
            return int64Shapes.get(name).clone();
        }

        /**
         * The tensors that are neither floating point nor int64 ({@code BOOL}, {@code I32}, ...), checked
         * but not read: their names with PyTorch's dtype and the shape ({@code "int32 [3]"}), in file order.
         */
        public Map<String, String> otherTensors() {
            return otherTensors;
        }
    }

    /** A safetensors dtype: its size in bits and PyTorch's name for it. */
    private enum Dtype {
        BOOL(8, "bool"), U8(8, "uint8"), I8(8, "int8"), I16(16, "int16"), U16(16, "uint16"), F16(16, "float16"),
        BF16(16, "bfloat16"), I32(32, "int32"), U32(32, "uint32"), F32(32, "float32"), F64(64, "float64"),
        I64(64, "int64"), U64(64, "uint64"), C64(64, "complex64"), F8_E4M3(8, "float8_e4m3fn"),
        F8_E5M2(8, "float8_e5m2"), F8_E8M0(8, "float8_e8m0fnu"), F6_E2M3(6, "float6_e2m3fn"),
        F6_E3M2(6, "float6_e3m2fn"), F4(4, "float4_e2m1fn_x2");

        final int bits;
        final String torchName;

        Dtype(int bits, String torchName) {
            this.bits = bits;
            this.torchName = torchName;
        }

        static Dtype named(String name) {
            for (Dtype d : values()) {
                if (d.name().equals(name)) {
                    return d;
                }
            }
            return null;
        }
    }

    /** One header entry, validated; its data is read only after every entry has been. */
    private record Entry(String name, Dtype dtype, int[] shape, long numel, long begin, long end) {
    }

    /**
     * Reads a whole safetensors file.
     *
     * @throws InvalidFileException if the file is truncated, malformed or holds a tensor larger than a
     *                              Java array
     * @throws IOException if it cannot be read
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new InvalidFileException(file, "truncated: " + size + " bytes, a safetensors file has at least 8");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw new InvalidFileException(file, "header length " + Long.toUnsignedString(headerLen)
                        + " is outside 2.." + MAX_HEADER_BYTES);
            }
            if (headerLen > size - 8) {
                throw new InvalidFileException(file, "truncated: header length " + headerLen + " but only "
                        + (size - 8) + " bytes follow");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen); // <= MAX_HEADER_BYTES
            readFully(ch, headerBuf, 8, file);
            if (headerBuf.get(0) != '{') {
                throw new InvalidFileException(file, "header does not start with '{'");
            }
            String header = utf8(file, headerBuf);
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            return parse(file, header, ch, dataStart, dataLen);
        }
    }

    /**
     * Whether {@code file} is laid out as a safetensors file: a header length that fits the file, then '{'.
     * A zip archive (a {@code .pt} checkpoint) never is: its local header puts the compression method
     * (0 or 8) where a safetensors header has '{', whatever its first four bytes say.
     */
    public static boolean looksLikeSafetensors(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining() && ch.read(head) >= 0) {
                // read until 9 bytes or the end
            }
            if (head.position() < 9) {
                return false;
            }
            long headerLen = head.getLong(0);
            return headerLen >= 2 && headerLen <= MAX_HEADER_BYTES && headerLen <= ch.size() - 8 && head.get(8) == '{';
        }
    }

    /** Strict UTF-8 (the reference refuses what Java's String constructor would silently replace). */
    private static String utf8(Path file, ByteBuffer bytes) throws InvalidFileException {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer out = CharBuffer.allocate(bytes.remaining());
        CoderResult r = dec.decode(bytes, out, true);
        if (r.isError()) {
            throw new InvalidFileException(file, "header is not valid UTF-8 (byte " + (8 + bytes.position()) + ")");
        }
        dec.flush(out);
        return out.flip().toString();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new InvalidFileException(file, "truncated while reading");
            }
        }
        buf.flip();
    }

    private static Contents parse(Path file, String header, FileChannel ch, long dataStart, long dataLen)
            throws IOException {
        Object root;
        try {
            root = Json.parse(header);
        } catch (IllegalArgumentException e) {
            throw new InvalidFileException(file, "header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map)) {
            throw new InvalidFileException(file, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) root).entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map)) {
                    throw new InvalidFileException(file, "__metadata__ is not an object");
                }
                for (Map.Entry<?, ?> m : ((Map<?, ?>) e.getValue()).entrySet()) {
                    if (!(m.getValue() instanceof String)) {
                        throw new InvalidFileException(file, "__metadata__ value of '" + m.getKey() + "' is not a string");
                    }
                    metadata.put((String) m.getKey(), (String) m.getValue());
                }
                continue;
            }
            entries.add(entry(file, name, e.getValue(), dataLen));
        }
        checkTiling(file, entries, dataLen);
        // Only now, with every range known to be distinct and inside the file, is anything allocated.
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, long[]> ints = new LinkedHashMap<>();
        Map<String, int[]> intShapes = new LinkedHashMap<>();
        Map<String, String> others = new LinkedHashMap<>();
        for (Entry t : entries) {
            switch (t.dtype()) {
                case F32, F64, F16, BF16, I64 -> {
                    if (t.numel() > MAX_ARRAY) {
                        throw new InvalidFileException(file, "tensor '" + t.name() + "' has " + t.numel()
                                + " elements, more than a Java array holds (" + MAX_ARRAY + ")");
                    }
                    Object data = readData(ch, dataStart + t.begin(), t, file);
                    if (data instanceof long[] l) {
                        ints.put(t.name(), l);
                        intShapes.put(t.name(), t.shape());
                    } else if (data instanceof float[] f) {
                        tensors.put(t.name(), Tensor.of(f, t.shape()));
                    } else {
                        tensors.put(t.name(), Tensor.of((double[]) data, t.shape()));
                    }
                }
                default -> others.put(t.name(), t.dtype().torchName + " " + Arrays.toString(t.shape()));
            }
        }
        return new Contents(metadata, tensors, ints, intShapes, others);
    }

    private static Entry entry(Path file, String name, Object value, long dataLen) throws InvalidFileException {
        if (!(value instanceof Map)) {
            throw new InvalidFileException(file, "entry '" + name + "' is not an object");
        }
        Map<?, ?> info = (Map<?, ?>) value;
        Object dtypeObj = info.get("dtype");
        if (!(dtypeObj instanceof String)) {
            throw new InvalidFileException(file, "tensor '" + name + "' has no dtype");
        }
        Dtype dtype = Dtype.named((String) dtypeObj);
        if (dtype == null) {
            throw new InvalidFileException(file, "tensor '" + name + "' has an unknown dtype " + dtypeObj);
        }
        int[] shape = shapeOf(file, name, info.get("shape"));
        long[] offsets = offsetsOf(file, name, info.get("data_offsets"));
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataLen) {
            throw new InvalidFileException(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] out of range of the " + dataLen + " data bytes");
        }
        long numel = 1;
        long bits;
        try {
            for (int d : shape) {
                numel = Math.multiplyExact(numel, (long) d);
            }
            bits = Math.multiplyExact(numel, (long) dtype.bits);
        } catch (ArithmeticException overflow) {
            throw new InvalidFileException(file, "tensor '" + name + "' shape " + Arrays.toString(shape) + " overflows");
        }
        if (bits % 8 != 0 || bits / 8 != end - begin) {
            throw new InvalidFileException(file, "tensor '" + name + "' shape " + Arrays.toString(shape) + " needs "
                    + (bits % 8 == 0 ? bits / 8 + " bytes" : bits + " bits (not whole bytes)") + " of " + dtype
                    + ", data_offsets give " + (end - begin));
        }
        return new Entry(name, dtype, shape, numel, begin, end);
    }

    /** The ranges, sorted, must start at 0, follow each other without overlap or gap and end at the file's end. */
    private static void checkTiling(Path file, List<Entry> entries, long dataLen) throws InvalidFileException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        Entry previous = null;
        for (Entry t : sorted) {
            if (t.begin() < at) {
                throw new InvalidFileException(file, "tensor data ranges overlap at byte " + t.begin() + ": tensor '"
                        + t.name() + "' [" + t.begin() + ", " + t.end() + "] and tensor '" + previous.name() + "' ["
                        + previous.begin() + ", " + previous.end() + "]");
            }
            if (t.begin() > at) {
                throw new InvalidFileException(file, "data bytes " + at + ".." + t.begin() + " belong to no tensor "
                        + "(before tensor '" + t.name() + "'): the ranges must follow each other");
            }
            at = t.end();
            previous = t;
        }
        if (at != dataLen) {
            throw new InvalidFileException(file, (dataLen - at) + " data bytes after the last tensor belong to no "
                    + "tensor");
        }
    }

    /** Reads one tensor's data in chunks into a new array of its Java type. */
    private static Object readData(FileChannel ch, long pos, Entry t, Path file) throws IOException {
        int n = (int) t.numel();
        float[] f = t.dtype() == Dtype.F32 || t.dtype() == Dtype.F16 || t.dtype() == Dtype.BF16 ? new float[n] : null;
        double[] d = t.dtype() == Dtype.F64 ? new double[n] : null;
        long[] l = t.dtype() == Dtype.I64 ? new long[n] : null;
        int elem = t.dtype().bits / 8;
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, t.end() - t.begin()))
                .order(ByteOrder.LITTLE_ENDIAN);
        int done = 0;
        while (done < n) {
            int count = Math.min(n - done, buf.capacity() / elem);
            buf.clear().limit(count * elem);
            readFully(ch, buf, pos + (long) done * elem, file);
            switch (t.dtype()) {
                case F32 -> buf.asFloatBuffer().get(f, done, count);
                case F64 -> buf.asDoubleBuffer().get(d, done, count);
                case I64 -> buf.asLongBuffer().get(l, done, count);
                case F16 -> {
                    for (int k = 0; k < count; k++) {
                        f[done + k] = TorchCheckpoint.halfToFloat(buf.getShort(2 * k));
                    }
                }
                default -> { // BF16: the upper half of a float32
                    for (int k = 0; k < count; k++) {
                        f[done + k] = Float.intBitsToFloat((buf.getShort(2 * k) & 0xffff) << 16);
                    }
                }
            }
            done += count;
        }
        return f != null ? f : d != null ? d : l;
    }

    private static int[] shapeOf(Path file, String name, Object v) throws InvalidFileException {
        if (!(v instanceof List)) {
            throw new InvalidFileException(file, "tensor '" + name + "' has no shape");
        }
        List<?> list = (List<?>) v;
        if (list.size() > 64) {
            throw new InvalidFileException(file, "tensor '" + name + "' has " + list.size() + " dimensions");
        }
        int[] shape = new int[list.size()];
        for (int k = 0; k < shape.length; k++) {
            Object d = list.get(k);
            if (!(d instanceof Long) || (Long) d < 0 || (Long) d > Integer.MAX_VALUE) {
                throw new InvalidFileException(file, "tensor '" + name + "' has a bad shape " + list);
            }
            shape[k] = (int) (long) (Long) d;
        }
        return shape;
    }

    private static long[] offsetsOf(Path file, String name, Object v) throws InvalidFileException {
        if (!(v instanceof List) || ((List<?>) v).size() != 2) {
            throw new InvalidFileException(file, "tensor '" + name + "' has no data_offsets pair");
        }
        long[] out = new long[2];
        for (int k = 0; k < 2; k++) {
            Object o = ((List<?>) v).get(k);
            if (!(o instanceof Long) || (Long) o < 0) {
                throw new InvalidFileException(file, "tensor '" + name + "' has bad data_offsets " + v);
            }
            out[k] = (Long) o;
        }
        return out;
    }

    /**
     * Writes tensors (and optional string metadata) as a safetensors file, in map order.
     * Values may be {@link Tensor}s or {@code long[]} (written as 1-D I64).
     */
    public static void write(Path file, Map<String, ?> tensors, Map<String, String> metadata) throws IOException {
        StringBuilder h = new StringBuilder("{");
        long offset = 0;
        boolean first = true;
        if (metadata != null && !metadata.isEmpty()) {
            h.append("\"__metadata__\":{");
            boolean f = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (!f) {
                    h.append(',');
                }
                f = false;
                Json.quote(h, m.getKey());
                h.append(':');
                Json.quote(h, m.getValue());
            }
            h.append('}');
            first = false;
        }
        for (Map.Entry<String, ?> e : tensors.entrySet()) {
            Object v = e.getValue();
            String dtype;
            int[] shape;
            long bytes;
            if (v instanceof Tensor) {
                Tensor t = (Tensor) v;
                dtype = t.dtype() == DType.FLOAT32 ? "F32" : "F64";
                shape = t.shape();
                bytes = (long) t.numel() * t.dtype().byteSize();
            } else if (v instanceof long[]) {
                dtype = "I64";
                shape = new int[] {((long[]) v).length};
                bytes = 8L * ((long[]) v).length;
            } else {
                throw new IllegalArgumentException("tensors: value of '" + e.getKey() + "' is neither Tensor nor long[]");
            }
            if (!first) {
                h.append(',');
            }
            first = false;
            Json.quote(h, e.getKey());
            h.append(":{\"dtype\":\"").append(dtype).append("\",\"shape\":[");
            for (int k = 0; k < shape.length; k++) {
                h.append(k == 0 ? "" : ",").append(shape[k]);
            }
            h.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        h.append('}');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - header.length % 8) % 8; // align data to 8 bytes, as the reference writer does
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length + pad);
            out.write(len.array());
            out.write(header);
            for (int k = 0; k < pad; k++) {
                out.write(' ');
            }
            for (Object v : tensors.values()) {
                writeData(out, v);
            }
        }
    }

    /** Writes one value's data little-endian, a chunk at a time (no byte count of a whole tensor as an int). */
    private static void writeData(OutputStream out, Object v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int n = v instanceof long[] l ? l.length : ((Tensor) v).numel();
        int per = CHUNK_BYTES / 8;
        for (int done = 0; done < n; done += per) {
            int count = Math.min(per, n - done);
            b.clear();
            if (v instanceof long[] l) {
                b.asLongBuffer().put(l, done, count);
                b.position(8 * count);
            } else if (((Tensor) v).dtype() == DType.FLOAT32) {
                b.asFloatBuffer().put(((Tensor) v).floatData(), done, count);
                b.position(4 * count);
            } else {
                b.asDoubleBuffer().put(((Tensor) v).doubleData(), done, count);
                b.position(8 * count);
            }
            out.write(b.array(), 0, b.position());
        }
    }
}
