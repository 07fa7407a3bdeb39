package dev.lstm4j.io;

import dev.lstm4j.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;

/**
 * Reads {@code torch.save(module.state_dict(), path)} files (PyTorch's zip format, PyTorch >= 1.6)
 * in Java, as {@code torch.load(path, weights_only=True)} does: the pickle may name only the globals a
 * state_dict needs ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, the
 * storage types); any other global ({@code os.system}, {@code builtins.eval}, ...) is refused by name
 * and nothing of the file runs. The opcodes are {@code net.razorvine:pickle}'s; globals, persistent
 * ids and {@code BUILD} are ours.
 *
 * <p>Tensors of float32, float64, float16 and bfloat16 storages are returned (the 16-bit ones
 * converted to float32, exactly); sizes are checked against the storage records before anything is
 * allocated.
 */
public final class TorchCheckpoint {
    /** Largest data.pkl read: a state_dict's pickle is a few KB per tensor. */
    private static final long MAX_PICKLE_BYTES = 64L << 20;

    private TorchCheckpoint() {
    }

    /** Whether {@code head} (the first bytes of a file) starts a zip archive, as {@code .pt} files do. */
    public static boolean isZip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /**
     * The tensors of the state_dict in {@code file}, by name, in the file's order.
     *
     * @throws InvalidFileException naming the file and the problem: not a zip, no data.pkl, a refused
     *                              global, a storage missing or too short, an unsupported dtype
     */
    public static Map<String, Tensor> read(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String prefix = archivePrefix(zip, file);
            ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                try (InputStream in = zip.getInputStream(order)) {
                    String bo = new String(in.readNBytes(16), StandardCharsets.US_ASCII).trim();
                    if (!bo.equals("little")) {
                        throw new InvalidFileException(file, "byteorder '" + bo + "' is not supported (little only)");
                    }
                }
            }
            Object root;
            byte[] pickle;
            try (InputStream in = zip.getInputStream(pkl)) {
                // The entry's declared size may lie: read at most the bound, whatever it says.
                pickle = in.readNBytes((int) MAX_PICKLE_BYTES + 1);
            }
            if (pickle.length > MAX_PICKLE_BYTES) {
                throw new InvalidFileException(file, "data.pkl is larger than " + MAX_PICKLE_BYTES + " bytes");
            }
            try (InputStream in = new java.io.ByteArrayInputStream(pickle)) {
                root = new StateDictUnpickler(file).load(in);
            } catch (RefusedException e) {
                throw new InvalidFileException(file, e.getMessage());
            } catch (InvalidFileException e) {
                throw e;
            } catch (IOException | RuntimeException | StackOverflowError e) {
                // Whatever malformed opcodes make the unpickler throw (bad numbers, stack underflow,
                // wrong types, truncation), untrusted bytes get one answer.
                throw new InvalidFileException(file, "malformed pickle in data.pkl: " + e);
            }
            if (!(root instanceof Map<?, ?> map)) {
                throw new InvalidFileException(file, "data.pkl holds " + describe(root)
                        + ", not a state_dict (a dict of tensors)");
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof TensorRecord t)) {
                    throw new InvalidFileException(file, "state_dict entry " + e.getKey() + " is " + describe(e.getValue())
                            + ", not a tensor");
                }
                out.put(name, t.materialize(zip, prefix, file, name));
            }
            return out;
        } catch (ZipException e) {
            throw new InvalidFileException(file, "not a PyTorch zip checkpoint (" + e.getMessage() + ")");
        } catch (InvalidFileException | java.nio.file.NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidFileException(file, "unreadable checkpoint: " + e.getMessage());
        } catch (ArithmeticException e) {
            throw new InvalidFileException(file, "sizes overflow: " + e.getMessage());
        }
    }

    /** The archive's top folder ("archive/" or the file's stem), which holds data.pkl. */
    private static String archivePrefix(ZipFile zip, Path file) throws InvalidFileException {
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            String name = entries.nextElement().getName();
            if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                return name.substring(0, name.length() - "data.pkl".length());
            }
        }
        throw new InvalidFileException(file, "no <archive>/data.pkl: not a torch.save zip checkpoint");
    }

    private static String describe(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }

    /** A global the allow-list refuses; thrown out of the unpickler before anything is built. */
    private static final class RefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    /** Element types of the storages admitted. */
    private enum StorageType {
        FLOAT(4), DOUBLE(8), HALF(2), BFLOAT16(2);

        final int bytes;

        StorageType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** A storage referenced by a persistent id: ('storage', type, key, location, numel). */
    private record StorageRecord(StorageType type, String key, long numel) {
    }

    /** What {@code _rebuild_tensor_v2} received: a strided view of a storage. */
    private record TensorRecord(StorageRecord storage, long offset, long[] size, long[] stride) {
        Tensor materialize(ZipFile zip, String prefix, Path file, String name) throws IOException {
            long numel = 1;
            long maxIndex = offset;
            for (int i = 0; i < size.length; i++) {
                if (size[i] < 0 || stride[i] < 0) {
                    throw new InvalidFileException(file, name + ": negative size or stride");
                }
                numel = Math.multiplyExact(numel, size[i]);
                if (size[i] > 0) {
                    maxIndex = Math.addExact(maxIndex, Math.multiplyExact(size[i] - 1, stride[i]));
                }
            }
            if (numel > Integer.MAX_VALUE - 8 || size.length > 8) {
                throw new InvalidFileException(file, name + ": " + numel + " elements in " + size.length
                        + " dims is more than supported");
            }
            if (numel > 0 && (offset < 0 || maxIndex >= storage.numel())) {
                throw new InvalidFileException(file, name + ": view reaches element " + maxIndex + " of a storage of "
                        + storage.numel());
            }
            ZipEntry entry = zip.getEntry(prefix + "data/" + storage.key());
            if (entry == null) {
                throw new InvalidFileException(file, name + ": storage data/" + storage.key() + " is missing");
            }
            long need = Math.multiplyExact(storage.numel(), storage.type().bytes);
            if (entry.getSize() >= 0 && entry.getSize() < need) {
                throw new InvalidFileException(file, name + ": storage data/" + storage.key() + " has "
                        + entry.getSize() + " bytes, expected " + need);
            }
            // Read only the bytes the view covers, never more than the entry holds.
            long bytes = numel == 0 ? 0 : Math.multiplyExact(maxIndex + 1, storage.type().bytes);
            byte[] raw;
            try (InputStream in = zip.getInputStream(entry)) {
                raw = in.readNBytes((int) Math.min(bytes, Integer.MAX_VALUE - 8));
            }
            if (raw.length < bytes) {
                throw new InvalidFileException(file, name + ": storage data/" + storage.key() + " is truncated");
            }
            ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            int[] shape = new int[size.length];
            for (int i = 0; i < size.length; i++) {
                shape[i] = (int) size[i];
            }
            boolean f64 = storage.type() == StorageType.DOUBLE;
            double[] d = f64 ? new double[(int) numel] : null;
            float[] f = f64 ? null : new float[(int) numel];
            long[] idx = new long[size.length];
            for (int n = 0; n < numel; n++) {
                long e = offset;
                for (int i = 0; i < size.length; i++) {
                    e += idx[i] * stride[i];
                }
                int at = (int) (e * storage.type().bytes);
                switch (storage.type()) {
                    case DOUBLE -> d[n] = buf.getDouble(at);
                    case FLOAT -> f[n] = buf.getFloat(at);
                    case HALF -> f[n] = halfToFloat(buf.getShort(at));
                    default -> f[n] = Float.intBitsToFloat((buf.getShort(at) & 0xffff) << 16);
                }
                for (int i = size.length - 1; i >= 0 && ++idx[i] == size[i]; i--) {
                    idx[i] = 0;
                }
            }
            return f64 ? Tensor.of(d, shape) : Tensor.of(f, shape);
        }
    }

    /** The ordered dict of a state_dict; {@code BUILD} hands it the {@code _metadata} attribute, which is ignored. */
    public static final class StateDictMap extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;

        StateDictMap() {
        }

        /** Called by the unpickler's BUILD with the dict's attributes ({@code _metadata}). */
        public void __setstate__(HashMap<?, ?> state) {
            // Version information of the modules; not needed to run an LSTM.
        }
    }

    /** Razorvine's opcodes with our globals: an allow-list, checked before anything is constructed. */
    private static final class StateDictUnpickler extends Unpickler {
        private static final short GLOBAL = 'c';
        private static final short STACK_GLOBAL = 0x93;
        private static final short INST = 'i';
        private static final short OBJ = 'o';
        private static final short EXT1 = 0x82;
        private static final short EXT2 = 0x83;
        private static final short EXT4 = 0x84;
        private static final short BINUNICODE = 'X';
        private static final short BINUNICODE8 = 0x8d;
        private static final short BINBYTES = 'B';
        private static final short BINBYTES8 = 0x8e;
        private static final short BINSTRING = 'T';
        private static final short BYTEARRAY8 = 0x96;
        private static final short LONG4 = 0x8b;

        private final Path file;

        StateDictUnpickler(Path file) {
            this.file = file;
        }

        @Override
        protected Object dispatch(short key) throws PickleException, IOException {
            switch (key) {
                case GLOBAL -> {
                    String module = readLine();
                    String name = readLine();
                    stack.add(resolve(module, name));
                    return NO_RETURN_VALUE;
                }
                case STACK_GLOBAL -> {
                    Object name = stack.pop();
                    Object module = stack.pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw new RefusedException("STACK_GLOBAL with non-string operands");
                    }
                    stack.add(resolve(m, n));
                    return NO_RETURN_VALUE;
                }
                // Length-prefixed data: the length is checked against what is left of the pickle before
                // anything is allocated (the library would allocate the declared length first).
                case BINUNICODE, BINSTRING -> {
                    stack.add(new String(readCounted(4), key == BINUNICODE ? java.nio.charset.StandardCharsets.UTF_8
                            : java.nio.charset.StandardCharsets.ISO_8859_1));
                    return NO_RETURN_VALUE;
                }
                case BINUNICODE8 -> {
                    stack.add(new String(readCounted(8), java.nio.charset.StandardCharsets.UTF_8));
                    return NO_RETURN_VALUE;
                }
                case BINBYTES -> {
                    stack.add(readCounted(4));
                    return NO_RETURN_VALUE;
                }
                case BINBYTES8 -> {
                    stack.add(readCounted(8));
                    return NO_RETURN_VALUE;
                }
                case INST, OBJ, EXT1, EXT2, EXT4, BYTEARRAY8, LONG4 -> throw new RefusedException(
                        "pickle opcode 0x" + Integer.toHexString(key) + " builds objects a state_dict never has: refused");
                default -> {
                    return super.dispatch(key);
                }
            }
        }

        /** A little-endian length of {@code width} bytes, then that many bytes, if the pickle has them. */
        private byte[] readCounted(int width) throws IOException {
            long n = 0;
            for (int i = 0; i < width; i++) {
                int b = input.read();
                if (b < 0) {
                    throw new PickleException("end of data in a length");
                }
                n |= (long) b << (8 * i);
            }
            if (n < 0 || n > input.available()) {
                throw new RefusedException("a pickle string of " + n + " bytes where " + input.available()
                        + " are left");
            }
            return input.readNBytes((int) n);
        }

        private String readLine() throws IOException {
            StringBuilder sb = new StringBuilder();
            for (int c = input.read(); c != '\n'; c = input.read()) {
                if (c < 0) {
                    throw new PickleException("end of data in GLOBAL");
                }
                if (sb.length() > 256) {
                    throw new RefusedException("a GLOBAL name longer than 256 characters");
                }
                sb.append((char) c);
            }
            return sb.toString();
        }

        private Object resolve(String module, String name) {
            String global = module + "." + name;
            switch (global) {
                case "collections.OrderedDict":
                    return (IObjectConstructor) args -> new StateDictMap();
                case "torch._utils._rebuild_tensor_v2":
                    return (IObjectConstructor) TorchCheckpoint::rebuildTensor;
                case "torch.FloatStorage":
                    return StorageType.FLOAT;
                case "torch.DoubleStorage":
                    return StorageType.DOUBLE;
                case "torch.HalfStorage":
                    return StorageType.HALF;
                case "torch.BFloat16Storage":
                    return StorageType.BFLOAT16;
                default:
                    throw new RefusedException("refuses the global " + global + ": a state_dict needs only "
                            + "collections.OrderedDict, torch._utils._rebuild_tensor_v2 and float storage types "
                            + "(as torch.load(weights_only=True) would)");
            }
        }

        @Override
        protected Object persistentLoad(Object pid) {
            if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])) {
                throw new RefusedException("persistent id " + describe(pid) + " is not a storage record");
            }
            if (!(t[1] instanceof StorageType type)) {
                throw new RefusedException("storage of type " + describe(t[1]) + " is not supported");
            }
            return new StorageRecord(type, String.valueOf(t[2]), number(t[4], "numel"));
        }
    }

    private static long number(Object o, String what) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        throw new RefusedException(what + " is " + describe(o) + ", not an integer");
    }

    private static long[] longs(Object o, String what) {
        if (!(o instanceof Object[] a)) {
            throw new RefusedException(what + " is " + describe(o) + ", not a tuple");
        }
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = number(a[i], what);
        }
        return r;
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof StorageRecord s)) {
            throw new RefusedException("_rebuild_tensor_v2 called with " + args.length + " arguments");
        }
        long[] size = longs(args[2], "size");
        long[] stride = longs(args[3], "stride");
        if (size.length != stride.length) {
            throw new RefusedException("size and stride of different lengths");
        }
        return new TensorRecord(s, number(args[1], "storage_offset"), size, stride);
    }

    /** IEEE binary16 to float, exactly (Float.float16ToFloat is Java 20+). */
    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | mant << 13); // inf, nan
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): exact in float
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | (exp + 112) << 23 | mant << 13);
    }
}
