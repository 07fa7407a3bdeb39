package dev.lstm4j.nativ.binding;

import java.util.List;
import org.bytedeco.javacpp.ClassProperties;
import org.bytedeco.javacpp.LoadEnabled;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP properties of lstm4j's JNI library ({@code libjnilstm4j.so}): our headers (the C++ API and
 * the JNI-only {@code native/binding/lstm4j_jni.h}), our static C++
 * core ({@code liblstm4j.a}, built by CMake) and LibTorch's {@code torch_cpu} / {@code c10}.
 *
 * <p>It inherits the presets' {@code torch} properties so that {@link Loader} loads LibTorch (and
 * OpenBLAS, gomp) from the presets' jars before our library, then {@link #init} strips what we
 * do not want from the inheritance: LibTorch's C++ headers (not shipped; we use its C ABI) and
 * the preset's other link libraries.
 */
@Properties(
        inherit = org.bytedeco.pytorch.presets.torch.class,
        value = @Platform(include = {"lstm4j/lstm.h", "lstm4j_jni.h"}, link = {"c10", "torch_cpu", "lstm4j"}, library = "jnilstm4j"))
public final class Lstm4jNative implements LoadEnabled {
    /** Headers our JNI glue includes. */
    static final List<String> INCLUDES = List.of("lstm4j/lstm.h", "lstm4j_jni.h");
    /** Libraries it links; JavaCPP emits them in reverse, so the static core comes first on the command line. */
    static final List<String> LINKS = List.of("c10", "torch_cpu", "lstm4j");

    /** System property naming an existing LibTorch {@code lib} folder to use instead of the presets' binaries. */
    public static final String LIBTORCH_DIR_PROPERTY = "lstm4j.libtorch.dir";
    /** Environment variable with the same meaning as {@link #LIBTORCH_DIR_PROPERTY} (the property wins). */
    public static final String LIBTORCH_DIR_ENV = "LSTM4J_LIBTORCH_DIR";

    private static final String JNI_RESOURCE = "linux-x86_64/libjnilstm4j.so";

    /**
     * Loads LibTorch and our JNI library; throws {@link UnsatisfiedLinkError} with the cause if that
     * fails. By default LibTorch comes from the JavaCPP presets' jars. When {@value #LIBTORCH_DIR_PROPERTY}
     * (or {@value #LIBTORCH_DIR_ENV}) names a LibTorch {@code lib} folder (a pip {@code torch}'s
     * {@code torch/lib}, a libtorch download), that LibTorch is loaded instead and the presets' native
     * libraries are never touched: our library needs only {@code libc10} and {@code libtorch_cpu}
     * through LibTorch's stable C ABI.
     */
    public static synchronized void load() {
        String dir = System.getProperty(LIBTORCH_DIR_PROPERTY);
        if (dir == null || dir.isEmpty()) {
            dir = System.getenv(LIBTORCH_DIR_ENV);
        }
        if (dir == null || dir.isEmpty()) {
            Loader.load(NativeLstm.class);
        } else {
            loadWithExistingLibTorch(java.nio.file.Path.of(dir));
        }
    }

    private static boolean loadedExisting;

    private static void loadWithExistingLibTorch(java.nio.file.Path dir) {
        if (loadedExisting) {
            return;
        }
        // Loader must not load the presets' LibTorch next to this one: two LibTorch copies abort.
        System.setProperty("org.bytedeco.javacpp.loadlibraries", "false");
        for (String lib : new String[] {"libc10.so", "libtorch_cpu.so"}) {
            java.nio.file.Path p = dir.resolve(lib);
            if (!java.nio.file.Files.isRegularFile(p)) {
                throw new UnsatisfiedLinkError(LIBTORCH_DIR_PROPERTY + "=" + dir + ": " + lib + " not found there");
            }
            System.load(p.toAbsolutePath().toString());
        }
        try (java.io.InputStream in = Lstm4jNative.class.getResourceAsStream(JNI_RESOURCE)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("lstm4j's JNI library " + JNI_RESOURCE + " is missing from the class path");
            }
            java.nio.file.Path tmp = java.nio.file.Files.createTempFile("libjnilstm4j", ".so");
            tmp.toFile().deleteOnExit();
            java.nio.file.Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toAbsolutePath().toString());
        } catch (java.io.IOException e) {
            throw new UnsatisfiedLinkError("cannot extract lstm4j's JNI library: " + e);
        }
        loadedExisting = true;
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
