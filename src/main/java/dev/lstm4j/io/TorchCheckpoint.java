package dev.lstm4j.io;

import dev.lstm4j.Tensor;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;

/**
 * Reads {@code torch.save(module.state_dict(), path)} files (PyTorch's zip format, PyTorch >= 1.6)
 * in Java, as {@code torch.load(path, weights_only=True)} does: the pickle may name only the globals
 * that {@code weights_only=True} admits by default (the ordered dict, the {@code torch._utils._rebuild_*}
 * functions, storage types, dtypes, ...); any other global ({@code os.system}, {@code builtins.eval},
 * ...) is refused by name and nothing of the file runs. The opcodes are {@code net.razorvine:pickle}'s;
 * globals, persistent ids and {@code BUILD} are ours.
 *
 * <p>Dense tensors of float32, float64, float16 and bfloat16 storages are returned as {@link Tensor}s
 * (the 16-bit ones converted to float32, exactly). Everything else a state_dict may hold (int64
 * {@code num_batches_tracked}, bool or int tensors, quantized or sparse tensors, non-tensor extra state)
 * is checked, not read, and listed by {@link Contents#otherEntries()}, so that it never fails a file
 * whose LSTM does not use it.
 *
 * <p>What a file can make the reader allocate is bounded before anything is allocated:
 * <ul>
 * <li>the storages read total at most the file's size when stored uncompressed (as {@code torch.save}
 *     writes them: the storage entries' sizes in the archive may not add up to more than the file), and
 *     at most 32 times their compressed size plus 16 MiB when compressed (a deflate bomb is refused by
 *     its declared size, and never inflated further);
 * <li>the tensors returned hold at most 2^24 elements more than the float storages they view:
 *     identical views of one storage (tied weights) share one array, and views that read the same
 *     elements more than once (stride 0, overlapping offsets) are allowed only up to that many extra
 *     elements;
 * <li>each storage is read once, only as far as its views reach, and the pickle is at most 64 MiB.
 * </ul>
 */
public final class TorchCheckpoint {
    /** Largest data.pkl read: a state_dict's pickle is a few KB per tensor. */
    static final long MAX_PICKLE_BYTES = 64L << 20;
    /** How many times its compressed size a compressed storage may inflate to (real weights: about 1.1). */
    static final long MAX_INFLATION = 32;
    /** Bytes compressed storages may inflate to beyond {@link #MAX_INFLATION}: zero-filled small buffers. */
    static final long INFLATION_ALLOWANCE = 16L << 20;
    /** Elements the tensors may hold beyond their float storages' (expanded or overlapping views). */
    static final long MAX_EXTRA_ELEMENTS = 1L << 24;
    /** The most elements a Java array is sure to hold. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private TorchCheckpoint() {
    }

    /** Whether {@code head} (the first bytes of a file) starts a zip archive, as {@code .pt} files do. */
    public static boolean isZip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /** The entries of one checkpoint's state_dict. */
    public static final class Contents {
        private final Map<String, Tensor> tensors;
        private final Map<String, String> otherEntries;

        Contents(Map<String, Tensor> tensors, Map<String, String> otherEntries) {
            this.tensors = Collections.unmodifiableMap(tensors);
            this.otherEntries = Collections.unmodifiableMap(otherEntries);
        }

        /** The dense floating-point tensors, by name, in the file's order. */
        public Map<String, Tensor> tensors() {
            return tensors;
        }

        /**
         * The other entries, checked but not read: by name, what they hold as PyTorch prints a dtype and
         * shape ({@code "int64 []"}) or in words ({@code "a quantized tensor (torch._utils._rebuild_qtensor)"}).
         */
        public Map<String, String> otherEntries() {
            return otherEntries;
        }
    }

    /**
     * The tensors of the state_dict in {@code file}, by name, in the file's order.
     *
     * @throws InvalidFileException naming the file and the problem (and the tensor, where one is at
     *                              fault): not a zip, no data.pkl, a refused global, a storage missing
     *                              or too short, a view past its storage, a bound above exceeded
     */
    public static Contents read(Path file) throws IOException {
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
                root = new StateDictUnpickler().load(in);
            } catch (RefusedException e) {
                throw new InvalidFileException(file, e.getMessage());
            } catch (IOException | RuntimeException | StackOverflowError e) {
                // Whatever malformed opcodes make the unpickler throw (bad numbers, stack underflow,
                // wrong types, truncation), untrusted bytes get one answer.
                throw new InvalidFileException(file, "malformed pickle in data.pkl: " + e);
            }
            if (!(root instanceof Map<?, ?> map)) {
                throw new InvalidFileException(file, "data.pkl holds " + describe(root)
                        + ", not a state_dict (a dict of tensors)");
            }
            return new Loader(zip, prefix, file).load(map);
        } catch (ZipException e) {
            throw new InvalidFileException(file, "not a PyTorch zip checkpoint (" + e.getMessage() + ")");
        } catch (InvalidFileException | java.nio.file.NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidFileException(file, "unreadable checkpoint: " + e.getMessage());
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
        return o == null ? "None" : o instanceof Object[] ? "a tuple" : "a " + o.getClass().getSimpleName();
    }

    /** A global the allow-list refuses; thrown out of the unpickler before anything is built. */
    private static final class RefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    /** The storage types of {@code torch.save}'s persistent ids, with their element size and dtype. */
    private enum StorageType {
        FLOAT("FloatStorage", 4, "float32"), DOUBLE("DoubleStorage", 8, "float64"), HALF("HalfStorage", 2, "float16"),
        BFLOAT16("BFloat16Storage", 2, "bfloat16"), LONG("LongStorage", 8, "int64"), INT("IntStorage", 4, "int32"),
        SHORT("ShortStorage", 2, "int16"), CHAR("CharStorage", 1, "int8"), BYTE("ByteStorage", 1, "uint8"),
        BOOL("BoolStorage", 1, "bool"), COMPLEX_FLOAT("ComplexFloatStorage", 8, "complex64"),
        COMPLEX_DOUBLE("ComplexDoubleStorage", 16, "complex128"), QINT8("QInt8Storage", 1, "qint8"),
        QUINT8("QUInt8Storage", 1, "quint8"), QINT32("QInt32Storage", 4, "qint32"),
        QUINT4X2("QUInt4x2Storage", 1, "quint4x2"), QUINT2X4("QUInt2x4Storage", 1, "quint2x4");

        final String global;
        final int bytes;
        final String dtype;

        StorageType(String global, int bytes, String dtype) {
            this.global = global;
            this.bytes = bytes;
            this.dtype = dtype;
        }

        /** Whether its tensors become {@link Tensor}s. */
        boolean isFloat() {
            return this == FLOAT || this == DOUBLE || this == HALF || this == BFLOAT16;
        }

        static StorageType named(String name) {
            for (StorageType t : values()) {
                if (t.global.equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    /** A storage referenced by a persistent id: ('storage', type, key, location, numel). */
    private record StorageRecord(StorageType type, String key, long numel) {
    }

    /** What {@code _rebuild_tensor_v2} received: a strided view of a storage. */
    private record TensorRecord(StorageRecord storage, long offset, long[] size, long[] stride) {
    }

    /**
     * Something {@code weights_only=True} admits that lstm4j does not read (a quantized or sparse tensor,
     * a dtype, a device, ...): kept as a description, so that it fails only an LSTM that needs it.
     */
    private record Unread(String what) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            return new Unread(what.startsWith("a ") ? what : "what " + what + " builds");
        }
    }

    /** Identical views of one storage (tied weights, or one tensor reached twice through the memo). */
    private record ViewKey(String storage, long offset, List<Long> size, List<Long> stride) {
        static ViewKey of(TensorRecord t) {
            return new ViewKey(t.storage().key(), t.offset(), Arrays.stream(t.size()).boxed().toList(),
                    Arrays.stream(t.stride()).boxed().toList());
        }
    }

    /** Checks every view and storage against the bounds, then reads each storage once. */
    private static final class Loader {
        private final ZipFile zip;
        private final String prefix;
        private final Path file;

        Loader(ZipFile zip, String prefix, Path file) {
            this.zip = zip;
            this.prefix = prefix;
            this.file = file;
        }

        Contents load(Map<?, ?> map) throws IOException {
            Map<String, String> others = new LinkedHashMap<>();
            Map<String, TensorRecord> floats = new LinkedHashMap<>();
            Map<String, StorageRecord> storages = new LinkedHashMap<>();
            Map<String, String> storageUser = new HashMap<>(); // a tensor naming each storage, for messages
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw new InvalidFileException(file, "state_dict key " + e.getKey() + " is " + describe(e.getKey())
                            + ", not a string");
                }
                Object v = e.getValue();
                if (v instanceof TensorRecord t) {
                    long[] reach = checkView(name, t);
                    StorageRecord s = t.storage();
                    StorageRecord seen = storages.putIfAbsent(s.key(), s);
                    if (seen != null && !seen.equals(s)) {
                        throw new InvalidFileException(file, "tensor '" + name + "': storage data/" + s.key()
                                + " is declared as " + s.numel() + " x " + s.type().global + " and as " + seen.numel()
                                + " x " + seen.type().global);
                    }
                    storageUser.putIfAbsent(s.key(), name);
                    if (s.type().isFloat()) {
                        if (reach[0] > MAX_ARRAY) {
                            throw new InvalidFileException(file, "tensor '" + name + "' has " + reach[0]
                                    + " elements, more than a Java array holds (" + MAX_ARRAY + ")");
                        }
                        floats.put(name, t);
                    } else {
                        others.put(name, s.type().dtype + " " + Arrays.toString(t.size()));
                    }
                } else if (v instanceof Unread u) {
                    others.put(name, u.what());
                } else {
                    others.put(name, describe(v) + ", not a tensor");
                }
            }
            checkStorages(storages, storageUser);
            checkElements(floats, storages);
            return new Contents(readFloats(floats), others);
        }

        /** The view's element count and the highest storage element it reaches; sizes and strides sane. */
        private long[] checkView(String name, TensorRecord t) throws InvalidFileException {
            long[] size = t.size();
            long[] stride = t.stride();
            if (size.length > 64) {
                throw new InvalidFileException(file, "tensor '" + name + "' has " + size.length + " dimensions");
            }
            if (t.offset() < 0) {
                throw new InvalidFileException(file, "tensor '" + name + "' has a negative storage offset " + t.offset());
            }
            long numel = 1;
            long maxIndex = t.offset();
            try {
                for (int i = 0; i < size.length; i++) {
                    if (size[i] < 0 || size[i] > Integer.MAX_VALUE || stride[i] < 0) {
                        throw new InvalidFileException(file, "tensor '" + name + "' has size " + Arrays.toString(size)
                                + " and stride " + Arrays.toString(stride) + ": sizes must be 0.." + Integer.MAX_VALUE
                                + " and strides >= 0");
                    }
                    numel = Math.multiplyExact(numel, size[i]);
                    if (size[i] > 0) {
                        maxIndex = Math.addExact(maxIndex, Math.multiplyExact(size[i] - 1, stride[i]));
                    }
                }
            } catch (ArithmeticException overflow) {
                throw new InvalidFileException(file, "tensor '" + name + "' size " + Arrays.toString(size) + " and stride "
                        + Arrays.toString(stride) + " overflow");
            }
            if (numel > 0 && maxIndex >= t.storage().numel()) {
                throw new InvalidFileException(file, "tensor '" + name + "': view reaches element " + maxIndex
                        + " of a storage of " + t.storage().numel());
            }
            return new long[] {numel, maxIndex};
        }

        /** Each storage is in the archive, as large as declared, and the float ones within the byte bounds. */
        private void checkStorages(Map<String, StorageRecord> storages, Map<String, String> user) throws IOException {
            long stored = 0;
            long compressed = 0;
            long inflated = 0;
            for (StorageRecord s : storages.values()) {
                String tensor = "tensor '" + user.get(s.key()) + "': ";
                ZipEntry entry = zip.getEntry(prefix + "data/" + s.key());
                if (entry == null) {
                    throw new InvalidFileException(file, tensor + "storage data/" + s.key() + " is missing");
                }
                long need;
                try {
                    need = Math.multiplyExact(s.numel(), s.type().bytes);
                } catch (ArithmeticException overflow) {
                    throw new InvalidFileException(file, tensor + "storage data/" + s.key() + " of " + s.numel()
                            + " elements overflows");
                }
                // A stored entry holds what its compressed size says, whatever its declared size claims.
                long holds = entry.getMethod() == ZipEntry.STORED ? Math.min(entry.getSize(), entry.getCompressedSize())
                        : entry.getSize();
                if (s.numel() < 0 || holds < need) {
                    throw new InvalidFileException(file, tensor + "storage data/" + s.key() + " has "
                            + holds + " bytes, expected " + need);
                }
                if (!s.type().isFloat()) {
                    continue; // checked, never read
                }
                if (entry.getMethod() == ZipEntry.STORED) {
                    stored += entry.getCompressedSize();
                } else {
                    compressed += entry.getCompressedSize();
                    inflated += need;
                }
                if (stored + compressed > Files.size(file)) {
                    throw new InvalidFileException(file, tensor + "the storages' entries add up to " + (stored + compressed)
                            + " bytes, more than the file's " + Files.size(file) + ": the archive's entries overlap");
                }
                if (inflated > MAX_INFLATION * compressed + INFLATION_ALLOWANCE) {
                    throw new InvalidFileException(file, tensor + "compressed storages would inflate from " + compressed
                            + " to " + inflated + " bytes, more than " + MAX_INFLATION + " times plus "
                            + INFLATION_ALLOWANCE + " (torch.save stores storages uncompressed)");
                }
            }
        }

        /** The tensors, each distinct view counted once, hold at most MAX_EXTRA_ELEMENTS more than their storages. */
        private void checkElements(Map<String, TensorRecord> floats, Map<String, StorageRecord> storages)
                throws InvalidFileException {
            long held = 0;
            for (StorageRecord s : storages.values()) {
                if (s.type().isFloat()) {
                    held += s.numel(); // each below 2^61: the checks above bound it by the file
                }
            }
            long materialised = 0;
            Set<ViewKey> views = new java.util.HashSet<>();
            for (Map.Entry<String, TensorRecord> e : floats.entrySet()) {
                if (!views.add(ViewKey.of(e.getValue()))) {
                    continue;
                }
                materialised += numel(e.getValue());
                if (materialised > held + MAX_EXTRA_ELEMENTS) {
                    throw new InvalidFileException(file, "tensor '" + e.getKey() + "' brings the elements of the tensors "
                            + "to " + materialised + ", more than the " + held + " their storages hold plus "
                            + MAX_EXTRA_ELEMENTS + " (views that repeat elements: stride 0 or overlapping)");
                }
            }
        }

        /** Reads each float storage once, as far as its views reach, and copies out every distinct view. */
        private Map<String, Tensor> readFloats(Map<String, TensorRecord> floats) throws IOException {
            Map<String, List<String>> byStorage = new LinkedHashMap<>();
            floats.forEach((name, t) -> byStorage.computeIfAbsent(t.storage().key(), k -> new ArrayList<>()).add(name));
            Map<String, Tensor> built = new HashMap<>();
            for (List<String> names : byStorage.values()) {
                StorageRecord s = floats.get(names.get(0)).storage();
                long lo = Long.MAX_VALUE;
                long hi = -1;
                for (String n : names) {
                    TensorRecord t = floats.get(n);
                    if (numel(t) > 0) {
                        lo = Math.min(lo, t.offset());
                        hi = Math.max(hi, reach(t));
                    }
                }
                byte[] raw = new byte[0];
                if (hi >= 0) {
                    long span = (hi - lo + 1) * s.type().bytes;
                    if (span > MAX_ARRAY) {
                        throw new InvalidFileException(file, "tensor '" + names.get(0) + "': the tensors of storage data/"
                                + s.key() + " span " + span + " bytes of it, more than one Java array holds");
                    }
                    raw = readSpan(s, lo * s.type().bytes, (int) span, names.get(0));
                }
                ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
                Map<ViewKey, Tensor> shared = new HashMap<>();
                for (String n : names) {
                    TensorRecord t = floats.get(n);
                    long base = lo == Long.MAX_VALUE ? 0 : lo;
                    built.put(n, shared.computeIfAbsent(ViewKey.of(t), k -> gather(t, buf, base)));
                }
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String n : floats.keySet()) {
                out.put(n, built.get(n));
            }
            return out;
        }

        private byte[] readSpan(StorageRecord s, long skip, int bytes, String tensor) throws IOException {
            ZipEntry entry = zip.getEntry(prefix + "data/" + s.key());
            try (InputStream in = zip.getInputStream(entry)) {
                in.skipNBytes(skip);
                byte[] raw = in.readNBytes(bytes);
                if (raw.length == bytes) {
                    return raw;
                }
            } catch (EOFException | ZipException e) {
                // the entry holds fewer bytes than it declared, or its compressed data is broken
            }
            throw new InvalidFileException(file, "tensor '" + tensor + "': storage data/" + s.key() + " is truncated");
        }
    }

    private static long numel(TensorRecord t) {
        long n = 1;
        for (long d : t.size()) {
            n *= d; // checked in checkView
        }
        return n;
    }

    private static long reach(TensorRecord t) {
        long e = t.offset();
        for (int i = 0; i < t.size().length; i++) {
            if (t.size()[i] > 0) {
                e += (t.size()[i] - 1) * t.stride()[i];
            }
        }
        return e;
    }

    /** The view's elements, in C order, from {@code raw} (which starts at storage element {@code base}). */
    private static Tensor gather(TensorRecord t, ByteBuffer raw, long base) {
        long[] size = t.size();
        long[] stride = t.stride();
        StorageType type = t.storage().type();
        int numel = (int) numel(t);
        int[] shape = new int[size.length];
        for (int i = 0; i < size.length; i++) {
            shape[i] = (int) size[i];
        }
        boolean f64 = type == StorageType.DOUBLE;
        double[] d = f64 ? new double[numel] : null;
        float[] f = f64 ? null : new float[numel];
        long[] idx = new long[size.length];
        for (int n = 0; n < numel; n++) {
            long e = t.offset() - base;
            for (int i = 0; i < size.length; i++) {
                e += idx[i] * stride[i];
            }
            int at = (int) (e * type.bytes);
            switch (type) {
                case DOUBLE -> d[n] = raw.getDouble(at);
                case FLOAT -> f[n] = raw.getFloat(at);
                case HALF -> f[n] = halfToFloat(raw.getShort(at));
                default -> f[n] = Float.intBitsToFloat((raw.getShort(at) & 0xffff) << 16); // bfloat16
            }
            for (int i = size.length - 1; i >= 0 && ++idx[i] == size[i]; i--) {
                idx[i] = 0;
            }
        }
        return f64 ? Tensor.of(d, shape) : Tensor.of(f, shape);
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
        private static final short SETITEMS = 'u';

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
                case SETITEMS -> {
                    // In the pickle's order (the library collects the pairs in a HashMap first): a
                    // state_dict's order is the module's, and the bounds' messages name the first culprit.
                    List<Object> items = stack.pop_all_since_marker();
                    if (items.size() % 2 != 0 || !(stack.peek() instanceof Map<?, ?>)) {
                        throw new PickleException("SETITEMS without key-value pairs on a dict");
                    }
                    @SuppressWarnings("unchecked")
                    Map<Object, Object> dict = (Map<Object, Object>) stack.peek();
                    for (int i = 0; i < items.size(); i += 2) {
                        dict.put(items.get(i), items.get(i + 1));
                    }
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
                case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
                    return (IObjectConstructor) TorchCheckpoint::rebuildTensor;
                case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
                    // (data, requires_grad, backward_hooks[, state]): a parameter is its data here.
                    return (IObjectConstructor) args -> args.length >= 1 ? args[0] : new Unread("an empty parameter");
                case "torch._tensor._rebuild_from_type_v2":
                    // (func, new_type, args, state): a tensor subclass (Parameter) rebuilt by func(*args).
                    return (IObjectConstructor) args -> args.length >= 3 && args[0] instanceof IObjectConstructor f
                            && args[2] instanceof Object[] a ? f.construct(a) : new Unread("a tensor subclass");
                default:
                    break;
            }
            StorageType storage = module.equals("torch") ? StorageType.named(name) : null;
            if (storage != null) {
                return storage;
            }
            String unread = WEIGHTS_ONLY_UNREAD.get(global);
            if (unread != null) {
                return new Unread(unread);
            }
            if ((module.equals("torch") && (TORCH_VALUES.contains(name) || name.matches("[A-Za-z0-9]+Tensor")))
                    || (module.equals("torch.cuda") && name.matches("[A-Za-z0-9]+(Tensor|Storage)"))) {
                return new Unread(global);
            }
            throw new RefusedException("refuses the global " + global + ": a state_dict is built from "
                    + "collections.OrderedDict, the torch._utils._rebuild_ functions, storage types and dtypes only "
                    + "(the globals torch.load(weights_only=True) admits by default)");
        }

        @Override
        protected Object persistentLoad(Object pid) {
            if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])) {
                throw new RefusedException("persistent id " + describe(pid) + " is not a storage record");
            }
            if (t[1] instanceof Unread u) {
                return new Unread("a tensor of a " + u.what() + " storage");
            }
            if (!(t[1] instanceof StorageType type)) {
                throw new RefusedException("storage of type " + describe(t[1]) + " is not a storage type");
            }
            if (!(t[2] instanceof String key)) {
                throw new RefusedException("storage key is " + describe(t[2]) + ", not a string");
            }
            return new StorageRecord(type, key, number(t[4], "numel"));
        }
    }

    /** Globals weights_only=True admits that build what lstm4j does not read, with what they build. */
    private static final Map<String, String> WEIGHTS_ONLY_UNREAD = Map.ofEntries(
            Map.entry("torch._utils._rebuild_qtensor", "a quantized tensor (torch._utils._rebuild_qtensor)"),
            Map.entry("torch._utils._rebuild_tensor_v3", "a tensor of a dtype without a storage type "
                    + "(torch._utils._rebuild_tensor_v3)"),
            Map.entry("torch._utils._rebuild_sparse_tensor", "a sparse tensor (torch._utils._rebuild_sparse_tensor)"),
            Map.entry("torch._utils._rebuild_meta_tensor_no_storage", "a meta tensor without data "
                    + "(torch._utils._rebuild_meta_tensor_no_storage)"),
            Map.entry("torch._utils._rebuild_wrapper_subclass", "a tensor subclass (torch._utils._rebuild_wrapper_subclass)"),
            Map.entry("torch._utils._rebuild_device_tensor_from_numpy", "a device tensor "
                    + "(torch._utils._rebuild_device_tensor_from_numpy)"),
            Map.entry("torch._utils._rebuild_device_tensor_from_cpu_tensor", "a device tensor "
                    + "(torch._utils._rebuild_device_tensor_from_cpu_tensor)"),
            Map.entry("torch._utils._rebuild_nested_tensor", "a nested tensor (torch._utils._rebuild_nested_tensor)"),
            Map.entry("torch.serialization._get_layout", "a tensor layout"),
            Map.entry("torch.nn.parameter.Parameter", "a parameter built by NEWOBJ"),
            Map.entry("collections.Counter", "a collections.Counter"),
            Map.entry("_codecs.encode", "bytes"),
            Map.entry("builtins.bytearray", "a bytearray"),
            Map.entry("builtins.set", "a set"),
            Map.entry("builtins.complex", "a complex number"),
            Map.entry("torch.storage.UntypedStorage", "torch.storage.UntypedStorage"),
            Map.entry("torch.storage.TypedStorage", "torch.storage.TypedStorage"),
            Map.entry("torch.UntypedStorage", "torch.UntypedStorage"),
            Map.entry("torch.TypedStorage", "torch.TypedStorage"));

    /** Names in module torch that are values (dtypes, layouts, qschemes, Size, device) for weights_only=True. */
    private static final Set<String> TORCH_VALUES = Set.of("Size", "device", "Tensor", "float32", "float", "float64",
            "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int", "int16", "short", "int8", "uint8",
            "uint16", "uint32", "uint64", "bool", "complex32", "chalf", "complex64", "cfloat", "complex128", "cdouble",
            "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
            "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16",
            "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3", "int4", "int5", "int6",
            "int7", "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn", "jagged",
            "per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
            "per_channel_affine_float_qparams");

    /** A pickle integer as a long; floats and integers beyond 64 bits are refused, never truncated. */
    private static long number(Object o, String what) {
        if (o instanceof Integer || o instanceof Long) {
            return ((Number) o).longValue();
        }
        if (o instanceof BigInteger b) {
            if (b.bitLength() < 64) {
                return b.longValue();
            }
            throw new RefusedException(what + " " + b + " does not fit 64 bits");
        }
        throw new RefusedException(what + " is " + (o instanceof Number ? "a " + o.getClass().getSimpleName() + " ("
                + o + ")" : describe(o)) + ", not an integer");
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
        if (args.length >= 1 && args[0] instanceof Unread u) {
            return u;
        }
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
