package dev.lstm4j.io;

import dev.lstm4j.DType;
import dev.lstm4j.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format
 * that PyTorch users save with {@code safetensors.torch.save_file}: an 8-byte little-endian header
 * length, a JSON header, then raw little-endian tensor data.
 *
 * <p>Reading checks every size and offset against the file before allocating anything, so a
 * truncated or hostile file gives an {@link InvalidFileException} naming the file and the problem.
 * Supported dtypes: F32 and F64 (as {@link Tensor}s) and I64 (as {@code long[]}, e.g. sequence
 * lengths).
 */
public final class Safetensors {
    /** Headers larger than this are refused (the reference implementation uses the same bound). */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private Safetensors() {
    }

    /** The contents of one safetensors file. */
    public static final class Contents {
        private final Map<String, String> metadata;
        private final Map<String, Tensor> tensors;
        private final Map<String, long[]> int64Tensors;
        private final Map<String, int[]> int64Shapes;

        Contents(Map<String, String> metadata, Map<String, Tensor> tensors, Map<String, long[]> int64Tensors,
                Map<String, int[]> int64Shapes) {
            this.metadata = Collections.unmodifiableMap(metadata);
            this.tensors = Collections.unmodifiableMap(tensors);
            this.int64Tensors = Collections.unmodifiableMap(int64Tensors);
            this.int64Shapes = Collections.unmodifiableMap(int64Shapes);
        }

        /** The {@code __metadata__} string map (empty if absent). */
        public Map<String, String> metadata() {
            return metadata;
        }

        /** The float32 / float64 tensors, in file order. */
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
    }

    /**
     * Reads a whole safetensors file.
     *
     * @throws InvalidFileException if the file is truncated, malformed or uses an unsupported dtype
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
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            String header = new String(headerBuf.array(), StandardCharsets.UTF_8);
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            return parse(file, header, ch, dataStart, dataLen);
        }
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
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, long[]> ints = new LinkedHashMap<>();
        Map<String, int[]> intShapes = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
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
            if (!(e.getValue() instanceof Map)) {
                throw new InvalidFileException(file, "entry '" + name + "' is not an object");
            }
            Map<?, ?> info = (Map<?, ?>) e.getValue();
            Object dtypeObj = info.get("dtype");
            if (!(dtypeObj instanceof String)) {
                throw new InvalidFileException(file, "tensor '" + name + "' has no dtype");
            }
            String dtype = (String) dtypeObj;
            int elemSize;
            switch (dtype) {
                case "F32": elemSize = 4; break;
                case "F64":
                case "I64": elemSize = 8; break;
                default:
                    throw new InvalidFileException(file, "tensor '" + name + "' has unsupported dtype " + dtype
                            + " (supported: F32, F64, I64)");
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
            try {
                for (int d : shape) {
                    numel = Math.multiplyExact(numel, (long) d);
                }
                Math.multiplyExact(numel, (long) elemSize);
            } catch (ArithmeticException overflow) {
                throw new InvalidFileException(file, "tensor '" + name + "' shape " + java.util.Arrays.toString(shape)
                        + " overflows");
            }
            if (numel * elemSize != end - begin) {
                throw new InvalidFileException(file, "tensor '" + name + "' shape " + java.util.Arrays.toString(shape)
                        + " needs " + numel * elemSize + " bytes of " + dtype + ", data_offsets give " + (end - begin));
            }
            if (numel > Integer.MAX_VALUE - 8) {
                throw new InvalidFileException(file, "tensor '" + name + "' has " + numel
                        + " elements, more than a Java array holds");
            }
            ranges.add(new long[] {begin, end});
            ByteBuffer buf = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, buf, dataStart + begin, file);
            buf.order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) numel;
            if (dtype.equals("F32")) {
                float[] a = new float[n];
                buf.asFloatBuffer().get(a);
                tensors.put(name, Tensor.of(a, shape));
            } else if (dtype.equals("F64")) {
                double[] a = new double[n];
                buf.asDoubleBuffer().get(a);
                tensors.put(name, Tensor.of(a, shape));
            } else {
                long[] a = new long[n];
                buf.asLongBuffer().get(a);
                ints.put(name, a);
                intShapes.put(name, shape);
            }
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int k = 1; k < ranges.size(); k++) {
            if (ranges.get(k)[0] < ranges.get(k - 1)[1]) {
                throw new InvalidFileException(file, "tensor data ranges overlap at byte " + ranges.get(k)[0]);
            }
        }
        return new Contents(metadata, tensors, ints, intShapes);
    }

    private static int[] shapeOf(Path file, String name, Object v) throws InvalidFileException {
        if (!(v instanceof List)) {
            throw new InvalidFileException(file, "tensor '" + name + "' has no shape");
        }
        List<?> list = (List<?>) v;
        if (list.size() > 16) {
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
                out.write(bytesOf(v));
            }
        }
    }

    private static byte[] bytesOf(Object v) {
        if (v instanceof long[]) {
            long[] a = (long[]) v;
            ByteBuffer b = ByteBuffer.allocate(a.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(a);
            return b.array();
        }
        Tensor t = (Tensor) v;
        ByteBuffer b = ByteBuffer.allocate(t.numel() * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        if (t.dtype() == DType.FLOAT32) {
            b.asFloatBuffer().put(t.floatData());
        } else {
            b.asDoubleBuffer().put(t.doubleData());
        }
        return b.array();
    }
}
