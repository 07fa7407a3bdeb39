package dev.lstm4j.jvm;

/** Whether the JDK's Vector API can be used: {@code jdk.incubator.vector} is in the boot layer and not vetoed. */
final class VectorSupport {
    private VectorSupport() {
    }

    /** True when started with {@code --add-modules jdk.incubator.vector} and not {@code -Dlstm4j.java.noVectorApi=true}. */
    static boolean available() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                && !Boolean.getBoolean("lstm4j.java.noVectorApi");
    }

    /** An instance of {@code className} (a Vector API class of this package), or null if it cannot be made. */
    static Object instantiate(String className) {
        if (!available()) {
            return null;
        }
        try {
            return Class.forName(className).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return null; // the module is there but unusable: stay correct on the scalar path
        }
    }
}
