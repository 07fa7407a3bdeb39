package dev.lstm4j.io;

import dev.lstm4j.DType;
import dev.lstm4j.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Builds {@code torch.save}-style checkpoints byte by byte, as PyTorch writes them (protocol 2 pickle
 * of an OrderedDict of {@code _rebuild_tensor_v2} calls, storages as {@code archive/data/<key>}), so that
 * tests can make real and hostile files without PyTorch.
 */
public final class Checkpoints {
    private final ByteArrayOutputStream pickle = new ByteArrayOutputStream();
    private final Map<String, byte[]> storages = new LinkedHashMap<>();
    private final Map<String, Long> zeroStorages = new LinkedHashMap<>();
    private boolean deflateStorages;

    /** Starts the pickle: PROTO 2, OrderedDict(), MARK for the SETITEMS that {@link #save} ends. */
    public Checkpoints() {
        op(0x80, 2);
        global("collections", "OrderedDict");
        op(')', 'R', '(');
    }

    /** Compresses the storage entries (torch.save stores them; a re-zipped file may not). */
    public Checkpoints deflateStorages() {
        deflateStorages = true;
        return this;
    }

    /** Adds the raw bytes of storage {@code key}. */
    public Checkpoints storage(String key, byte[] bytes) {
        storages.put(key, bytes);
        return this;
    }

    /** Adds storage {@code key} of {@code bytes} zero bytes, written in pieces (never held in memory). */
    public Checkpoints zeroStorage(String key, long bytes) {
        zeroStorages.put(key, bytes);
        return this;
    }

    /** Adds a float32 tensor as its own contiguous FloatStorage. */
    public Checkpoints floatTensor(String name, Tensor t) {
        String key = Integer.toString(storages.size());
        ByteBuffer b = ByteBuffer.allocate(4 * t.numel()).order(ByteOrder.LITTLE_ENDIAN);
        if (t.dtype() == DType.FLOAT32) {
            b.asFloatBuffer().put(t.floatData());
        } else {
            b.asFloatBuffer().put(t.to(DType.FLOAT32).floatData());
        }
        storage(key, b.array());
        int[] shape = t.shape();
        long[] size = new long[shape.length];
        long[] stride = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            size[i] = shape[i];
            stride[i] = s;
            s *= shape[i];
        }
        key(name);
        view("FloatStorage", key, t.numel(), 0, size, stride);
        return this;
    }

    /** The key of the next state_dict entry. */
    public Checkpoints key(String name) {
        unicode(name);
        return this;
    }

    /** {@code _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
    public Checkpoints view(String storageType, String key, long storageNumel, long offset, long[] size, long[] stride) {
        return view(storageType, key, () -> integer(storageNumel), () -> integer(offset), () -> tuple(size),
                () -> tuple(stride));
    }

    /** As {@link #view(String, String, long, long, long[], long[])} with the numbers written by the callers. */
    public Checkpoints view(String storageType, String key, Runnable numel, Runnable offset, Runnable size,
            Runnable stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        op('(', '(');
        unicode("storage");
        global("torch", storageType);
        unicode(key);
        unicode("cpu");
        numel.run();
        op('t', 'Q');
        offset.run();
        size.run();
        stride.run();
        op(0x89);
        global("collections", "OrderedDict");
        op(')', 'R', 't', 'R');
        return this;
    }

    /** BINPUT / LONG_BINPUT of the value on top of the stack. */
    public Checkpoints put(int memo) {
        op('r');
        le(memo, 4);
        return this;
    }

    /** LONG_BINGET: pushes a memoized value again (the same object, as pickle shares it). */
    public Checkpoints get(int memo) {
        op('j');
        le(memo, 4);
        return this;
    }

    /** A global called with no arguments (REDUCE), e.g. torch._utils._rebuild_qtensor. */
    public Checkpoints call(String module, String name) {
        global(module, name);
        op(')', 'R');
        return this;
    }

    /** Raw pickle bytes. */
    public Checkpoints raw(int... ops) {
        op(ops);
        return this;
    }

    /** An int as BININT (32 bits) or LONG1 (any size, two's complement little-endian), as pickle writes it. */
    public Checkpoints integer(long v) {
        if (v == (int) v) {
            op('J');
            le(v, 4);
        } else {
            longInteger(java.math.BigInteger.valueOf(v));
        }
        return this;
    }

    /** LONG1 of any integer. */
    public Checkpoints longInteger(java.math.BigInteger v) {
        byte[] be = v.toByteArray();
        op(0x8a, be.length);
        for (int i = be.length - 1; i >= 0; i--) {
            pickle.write(be[i]);
        }
        return this;
    }

    /** BINFLOAT (big-endian double). */
    public Checkpoints binfloat(double v) {
        op('G');
        pickle.writeBytes(ByteBuffer.allocate(8).putDouble(v).array());
        return this;
    }

    /** A tuple of ints. */
    public Checkpoints tuple(long... values) {
        op('(');
        for (long v : values) {
            integer(v);
        }
        op('t');
        return this;
    }

    private void global(String module, String name) {
        op('c');
        pickle.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private void unicode(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        le(b.length, 4);
        pickle.writeBytes(b);
    }

    private void le(long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            pickle.write((int) (v >>> (8 * i)));
        }
    }

    private void op(int... ops) {
        for (int o : ops) {
            pickle.write(o);
        }
    }

    /** Ends the dict (SETITEMS, STOP) and writes the archive {@code name/...} to {@code file}. */
    public Path save(Path file) throws IOException {
        op('u', '.');
        String name = "archive";
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
            stored(z, name + "/data.pkl", pickle.toByteArray());
            stored(z, name + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                if (deflateStorages) {
                    z.putNextEntry(new ZipEntry(name + "/data/" + e.getKey()));
                    z.write(e.getValue());
                    z.closeEntry();
                } else {
                    stored(z, name + "/data/" + e.getKey(), e.getValue());
                }
            }
            for (Map.Entry<String, Long> e : zeroStorages.entrySet()) {
                z.putNextEntry(new ZipEntry(name + "/data/" + e.getKey()));
                byte[] zeros = new byte[1 << 20];
                for (long left = e.getValue(); left > 0; left -= zeros.length) {
                    z.write(zeros, 0, (int) Math.min(left, zeros.length));
                }
                z.closeEntry();
            }
            stored(z, name + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return file;
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }
}
