package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The shipped {@code libjnilstm4j.so} must load wherever PyTorch's manylinux_2_28 wheels load (RHEL 8,
 * Ubuntu 20.04, Debian 11), although it is built on a newer system: it may require no symbol version
 * newer than that policy's (glibc 2.28, GCC 8's libstdc++: GLIBCXX_3.4.25, CXXABI_1.3.11, GCC_7.0.0).
 * Read from the library's {@code .gnu.version_r} with a small ELF reader; a failure names the symbols:
 * pin them in native/binding/symbol_pins.h.
 */
class NativeSymbolVersionsTest {
    /** Newest version allowed per version prefix (manylinux_2_28's policy). */
    private static final Map<String, int[]> LIMITS = Map.of("GLIBC_", new int[] {2, 28}, "GLIBCXX_",
            new int[] {3, 4, 25}, "CXXABI_", new int[] {1, 3, 11}, "GCC_", new int[] {7, 0, 0});

    @Test
    void jniLibraryNeedsNothingNewerThanManylinux228() throws Exception {
        Path lib = Path.of(dev.lstm4j.nativ.binding.Lstm4jNative.class
                .getResource("linux-x86_64/libjnilstm4j.so").toURI());
        Map<String, List<String>> needs = requiredVersions(lib);
        System.out.println("libjnilstm4j.so requires: " + newestPerPrefix(needs));
        assertTrue(needs.containsKey("GLIBC_2.2.5"), "the reader found no GLIBC_2.2.5 symbol: " + needs.keySet());
        assertEquals(Map.of(), tooNew(needs), "symbols needing versions newer than manylinux_2_28 allows "
                + "(pin them in native/binding/symbol_pins.h)");
        List<String> wraps = undefinedSymbols(lib).stream().filter(s -> s.startsWith("__wrap_")).collect(
                java.util.stream.Collectors.toList());
        assertEquals(List.of(), wraps, "symbols wrapped in pom.xml without a trampoline in symbol_pins.h");
    }

    /** The check can fail: the presets' own libtorch_cpu.so needs glibc 2.35 (issue 17). */
    @Test
    void checkerSeesThePresetsLibTorchNeedsANewerGlibc() throws Exception {
        Path torch = Path.of("target/natives/org/bytedeco/pytorch/linux-x86_64/libtorch_cpu.so");
        assertTrue(Files.isRegularFile(torch), "unpacked by the build: " + torch.toAbsolutePath());
        Map<String, List<String>> tooNew = tooNew(requiredVersions(torch));
        assertTrue(tooNew.containsKey("GLIBC_2.35"), "expected GLIBC_2.35 among " + tooNew.keySet());
    }

    /** Versions above {@link #LIMITS}, each with (some of) the symbols that need it. */
    private static Map<String, List<String>> tooNew(Map<String, List<String>> needs) {
        Map<String, List<String>> r = new TreeMap<>();
        needs.forEach((version, symbols) -> LIMITS.forEach((prefix, limit) -> {
            if (version.startsWith(prefix) && compare(parse(version.substring(prefix.length())), limit) > 0) {
                r.put(version, symbols.subList(0, Math.min(symbols.size(), 5)));
            }
        }));
        return r;
    }

    private static Map<String, String> newestPerPrefix(Map<String, List<String>> needs) {
        Map<String, String> r = new TreeMap<>();
        for (String v : needs.keySet()) {
            String prefix = v.substring(0, v.indexOf('_') + 1);
            String old = r.get(prefix);
            if (old == null || compare(parse(v.substring(prefix.length())), parse(old.substring(prefix.length()))) > 0) {
                r.put(prefix, v);
            }
        }
        return r;
    }

    private static int[] parse(String dotted) {
        return java.util.Arrays.stream(dotted.split("\\.")).mapToInt(Integer::parseInt).toArray();
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < Math.max(a.length, b.length); i++) {
            int x = i < a.length ? a[i] : 0;
            int y = i < b.length ? b[i] : 0;
            if (x != y) {
                return Integer.compare(x, y);
            }
        }
        return 0;
    }

    // ---- a minimal ELF64 little-endian reader: section headers, .dynsym, .gnu.version, .gnu.version_r ----

    private static final int SHT_DYNSYM = 11;
    private static final int SHT_GNU_VERNEED = 0x6ffffffe;
    private static final int SHT_GNU_VERSYM = 0x6fffffff;

    private static final class Elf {
        final MappedByteBuffer b;
        final long[][] sections; // {type, offset, size, link, entsize}

        Elf(Path file) throws IOException {
            try (FileChannel ch = FileChannel.open(file)) {
                b = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            }
            b.order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt(0) != 0x464c457f || b.get(4) != 2 || b.get(5) != 1) {
                throw new IOException(file + " is not a little-endian ELF64 file");
            }
            long shoff = b.getLong(0x28);
            int shentsize = Short.toUnsignedInt(b.getShort(0x3a));
            int shnum = Short.toUnsignedInt(b.getShort(0x3c));
            sections = new long[shnum][];
            for (int i = 0; i < shnum; i++) {
                int h = (int) (shoff + (long) i * shentsize);
                sections[i] = new long[] {Integer.toUnsignedLong(b.getInt(h + 4)), b.getLong(h + 0x18),
                        b.getLong(h + 0x20), Integer.toUnsignedLong(b.getInt(h + 0x28)), b.getLong(h + 0x38)};
            }
        }

        long[] section(int type) {
            for (long[] s : sections) {
                if (s[0] == type) {
                    return s;
                }
            }
            throw new IllegalStateException("no section of type 0x" + Integer.toHexString(type));
        }

        String string(long[] strtab, long offset) {
            int start = (int) (strtab[1] + offset);
            int end = start;
            while (b.get(end) != 0) {
                end++;
            }
            byte[] bytes = new byte[end - start];
            b.get(start, bytes);
            return new String(bytes, StandardCharsets.US_ASCII);
        }
    }

    /** Each required version (e.g. {@code GLIBC_2.14}) with the undefined symbols bound to it. */
    static Map<String, List<String>> requiredVersions(Path file) throws IOException {
        Elf elf = new Elf(file);
        // .gnu.version_r: Verneed {vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32},
        // each with vn_cnt Vernaux {vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32}.
        long[] verneed = elf.section(SHT_GNU_VERNEED);
        long[] strtab = elf.sections[(int) verneed[3]];
        Map<Integer, String> byIndex = new TreeMap<>();
        long vn = verneed[1];
        while (true) {
            int cnt = Short.toUnsignedInt(elf.b.getShort((int) vn + 2));
            long aux = vn + Integer.toUnsignedLong(elf.b.getInt((int) vn + 8));
            for (int i = 0; i < cnt; i++) {
                int other = Short.toUnsignedInt(elf.b.getShort((int) aux + 6));
                byIndex.put(other, elf.string(strtab, Integer.toUnsignedLong(elf.b.getInt((int) aux + 8))));
                aux += Integer.toUnsignedLong(elf.b.getInt((int) aux + 12));
            }
            long next = Integer.toUnsignedLong(elf.b.getInt((int) vn + 12));
            if (next == 0) {
                break;
            }
            vn += next;
        }
        Map<String, List<String>> r = new TreeMap<>();
        for (String v : byIndex.values()) {
            r.put(v, new ArrayList<>());
        }
        // .gnu.version holds one u16 per .dynsym entry: the vna_other of the version it binds to.
        long[] dynsym = elf.section(SHT_DYNSYM);
        long[] versym = elf.section(SHT_GNU_VERSYM);
        long[] dynstr = elf.sections[(int) dynsym[3]];
        int n = (int) (dynsym[2] / dynsym[4]);
        for (int i = 0; i < n; i++) {
            String v = byIndex.get(Short.toUnsignedInt(elf.b.getShort((int) (versym[1] + 2L * i))) & 0x7fff);
            int sym = (int) (dynsym[1] + i * dynsym[4]);
            if (v != null && elf.b.getShort(sym + 6) == 0) { // st_shndx == SHN_UNDEF
                r.get(v).add(elf.string(dynstr, Integer.toUnsignedLong(elf.b.getInt(sym))));
            }
        }
        return r;
    }

    /** Names of the undefined dynamic symbols. */
    static TreeSet<String> undefinedSymbols(Path file) throws IOException {
        Elf elf = new Elf(file);
        long[] dynsym = elf.section(SHT_DYNSYM);
        long[] dynstr = elf.sections[(int) dynsym[3]];
        TreeSet<String> r = new TreeSet<>();
        for (int i = 1; i < (int) (dynsym[2] / dynsym[4]); i++) {
            int sym = (int) (dynsym[1] + i * dynsym[4]);
            if (elf.b.getShort(sym + 6) == 0) {
                r.add(elf.string(dynstr, Integer.toUnsignedLong(elf.b.getInt(sym))));
            }
        }
        return r;
    }
}
