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
     *
     * <p>The two modes exclude each other in one JVM, since two LibTorch copies in one process abort
     * it ("Tried to register multiple backend fallbacks"): the existing-LibTorch mode is refused when
     * another LibTorch is already mapped (the LIBTORCH backend's, say), and once it has loaded a
     * library from the folder, {@link #existingLibTorchDir()} tells the LIBTORCH backend to stay off.
     * Only a successful load turns JavaCPP's library loading off for the process
     * ({@code org.bytedeco.javacpp.loadlibraries=false}, so that no presets class loads the other
     * LibTorch); a failed one leaves the property as it was.
     */
    public static synchronized void load() {
        String dir = configuredLibTorchDir();
        if (dir == null) {
            Loader.load(NativeLstm.class);
        } else {
            loadWithExistingLibTorch(java.nio.file.Path.of(dir));
        }
    }

    /** The LibTorch folder named by {@value #LIBTORCH_DIR_PROPERTY} or {@value #LIBTORCH_DIR_ENV}, or null. */
    private static String configuredLibTorchDir() {
        String dir = System.getProperty(LIBTORCH_DIR_PROPERTY);
        if (dir == null || dir.isEmpty()) {
            dir = System.getenv(LIBTORCH_DIR_ENV);
        }
        return dir == null || dir.isEmpty() ? null : dir;
    }

    private static final String LOAD_LIBRARIES = "org.bytedeco.javacpp.loadlibraries";
    private static final String[] LIBTORCH_LIBS = {"libc10.so", "libtorch_cpu.so"};

    private static boolean loadedExisting;
    /** The folder the existing-LibTorch mode loaded at least one library from (then it owns the process). */
    private static String existingDir;

    /**
     * The folder whose LibTorch the NATIVE backend has loaded into this JVM (existing-LibTorch mode),
     * or null when it has not (no such mode, or not loaded yet): then no other LibTorch may be loaded.
     */
    public static synchronized String existingLibTorchDir() {
        return existingDir;
    }

    private static void loadWithExistingLibTorch(java.nio.file.Path dir) {
        if (loadedExisting) {
            return;
        }
        String where = LIBTORCH_DIR_PROPERTY + "=" + dir;
        if (existingDir != null) {
            throw new UnsatisfiedLinkError(where + ": an earlier load from " + existingDir
                    + " failed part way; restart the JVM");
        }
        if (!java.nio.file.Files.isDirectory(dir)) {
            throw new UnsatisfiedLinkError(where + ": no such folder");
        }
        for (String lib : LIBTORCH_LIBS) {
            if (!java.nio.file.Files.isRegularFile(dir.resolve(lib))) {
                throw new UnsatisfiedLinkError(where + ": " + lib + " not found there");
            }
        }
        for (String lib : LIBTORCH_LIBS) {
            java.nio.file.Path other = mappedElsewhere(lib, dir.resolve(lib));
            if (other != null) {
                throw new UnsatisfiedLinkError(where + ": another LibTorch is already loaded in this JVM (" + other
                        + ", e.g. by the LIBTORCH backend), and two LibTorch copies cannot share a process; use one "
                        + "mode per JVM (without " + LIBTORCH_DIR_PROPERTY + ", NATIVE runs on the presets' LibTorch)");
            }
        }
        java.nio.file.Path jni;
        try (java.io.InputStream in = Lstm4jNative.class.getResourceAsStream(JNI_RESOURCE)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("lstm4j's JNI library " + JNI_RESOURCE + " is missing from the class path");
            }
            jni = java.nio.file.Files.createTempFile("libjnilstm4j", ".so");
            jni.toFile().deleteOnExit();
            java.nio.file.Files.copy(in, jni, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new UnsatisfiedLinkError("cannot extract lstm4j's JNI library: " + e);
        }
        // Loader must not load the presets' LibTorch next to this one (the binding classes call it as
        // they initialise): turned off for the process, but only if this load succeeds.
        String before = System.getProperty(LOAD_LIBRARIES);
        System.setProperty(LOAD_LIBRARIES, "false");
        boolean done = false;
        try {
            for (String lib : LIBTORCH_LIBS) {
                System.load(dir.resolve(lib).toAbsolutePath().toString());
                existingDir = dir.toString(); // this process now holds (part of) that LibTorch
            }
            System.load(jni.toAbsolutePath().toString());
            done = true;
        } finally {
            if (!done) {
                if (before == null) {
                    System.clearProperty(LOAD_LIBRARIES);
                } else {
                    System.setProperty(LOAD_LIBRARIES, before);
                }
            }
        }
        loadedExisting = true;
    }

    /**
     * A file named {@code name} mapped into this process that is not {@code ours}, or null (also where
     * {@code /proc/self/maps} cannot be read: Linux is the only platform this library ships for).
     */
    private static java.nio.file.Path mappedElsewhere(String name, java.nio.file.Path ours) {
        java.util.List<String> maps;
        try {
            maps = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"));
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
        for (String line : maps) {
            int slash = line.indexOf('/');
            if (slash < 0 || !line.endsWith("/" + name)) {
                continue;
            }
            java.nio.file.Path mapped = java.nio.file.Path.of(line.substring(slash));
            try {
                if (!java.nio.file.Files.isSameFile(mapped, ours)) {
                    return mapped;
                }
            } catch (java.io.IOException e) {
                return mapped; // mapped but gone from disk: another copy all the same
            }
        }
        return null;
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
