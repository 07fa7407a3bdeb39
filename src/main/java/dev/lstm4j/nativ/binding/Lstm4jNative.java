package dev.lstm4j.nativ.binding;

import java.util.List;
import org.bytedeco.javacpp.ClassProperties;
import org.bytedeco.javacpp.LoadEnabled;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP properties of lstm4j's JNI library ({@code libjnilstm4j.so}): our header, our static C++
 * core ({@code liblstm4j.a}, built by CMake) and LibTorch's {@code torch_cpu} / {@code c10}.
 *
 * <p>It inherits the presets' {@code torch} properties so that {@link Loader} loads LibTorch (and
 * OpenBLAS, gomp) from the presets' jars before our library, then {@link #init} strips what we
 * do not want from the inheritance: LibTorch's C++ headers (not shipped; we use its C ABI) and
 * the preset's other link libraries.
 */
@Properties(
        inherit = org.bytedeco.pytorch.presets.torch.class,
        value = @Platform(include = "lstm4j/lstm.h", link = {"c10", "torch_cpu", "lstm4j"}, library = "jnilstm4j"))
public final class Lstm4jNative implements LoadEnabled {
    /** Headers our JNI glue includes. */
    static final List<String> INCLUDES = List.of("lstm4j/lstm.h");
    /** Libraries it links; JavaCPP emits them in reverse, so the static core comes first on the command line. */
    static final List<String> LINKS = List.of("c10", "torch_cpu", "lstm4j");

    /** Loads LibTorch and our JNI library; throws {@link UnsatisfiedLinkError} with the cause if that fails. */
    public static void load() {
        Loader.load(NativeLstm.class);
    }

    @Override
    public void init(ClassProperties properties) {
        List<String> include = properties.get("platform.include");
        include.clear();
        include.addAll(INCLUDES);
        properties.get("platform.cinclude").clear();
        List<String> link = properties.get("platform.link");
        link.clear();
        link.addAll(LINKS);
    }
}
