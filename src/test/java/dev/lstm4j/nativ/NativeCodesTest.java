package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.nativ.binding.NativeCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The codes that cross JNI are Java enums (NativeCodes) mirroring the C++ header
 * native/include/lstm4j/codes.h: this parses the header and checks that every enum has the same
 * constants with the same values, in both directions.
 */
class NativeCodesTest {
    private static final Pattern ENUM = Pattern.compile("enum class (\\w+) : int32_t \\{([^}]*)\\}");
    private static final Pattern CONSTANT = Pattern.compile("k(\\w+)\\s*=\\s*(\\d+)");

    /** C++ enum name -> (constant name normalised as Java spells it -> value). */
    private static Map<String, Map<String, Integer>> parseHeader() throws IOException {
        String header = Files.readString(Path.of("native/include/lstm4j/codes.h"));
        header = header.replaceAll("//[^\\n]*", "");
        Map<String, Map<String, Integer>> enums = new LinkedHashMap<>();
        Matcher e = ENUM.matcher(header);
        while (e.find()) {
            Map<String, Integer> constants = new TreeMap<>();
            Matcher c = CONSTANT.matcher(e.group(2));
            while (c.find()) {
                constants.put(normalise(c.group(1)), Integer.parseInt(c.group(2)));
            }
            enums.put(e.group(1), constants);
        }
        return enums;
    }

    private static String normalise(String name) {
        return name.replace("_", "").toLowerCase(java.util.Locale.ROOT);
    }

    private static <E extends Enum<E>> Map<String, Integer> javaSide(Class<E> type,
            java.util.function.ToIntFunction<E> code) {
        Map<String, Integer> constants = new TreeMap<>();
        for (E constant : type.getEnumConstants()) {
            constants.put(normalise(constant.name()), code.applyAsInt(constant));
        }
        return constants;
    }

    @Test
    void javaEnumsMatchTheHeader() throws IOException {
        Map<String, Map<String, Integer>> header = parseHeader();
        assertEquals(java.util.Set.of("Algorithm", "Dtype", "DeviceType", "ErrorKind"), header.keySet(),
                "enums in codes.h");
        assertEquals(header.get("Algorithm"), javaSide(NativeCodes.Algorithm.class, NativeCodes.Algorithm::code));
        assertEquals(header.get("Dtype"), javaSide(NativeCodes.Dtype.class, NativeCodes.Dtype::code));
        assertEquals(header.get("DeviceType"), javaSide(NativeCodes.DeviceType.class, NativeCodes.DeviceType::code));
        assertEquals(header.get("ErrorKind"), javaSide(NativeCodes.ErrorKind.class, NativeCodes.ErrorKind::code));
        assertTrue(header.get("Algorithm").size() == 6 && header.get("ErrorKind").size() == 5, header.toString());
    }
}
