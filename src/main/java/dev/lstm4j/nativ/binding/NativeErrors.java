package dev.lstm4j.nativ.binding;

import dev.lstm4j.NativeException;

/**
 * The one place that turns a failed native call into a Java exception. lstm4j's JNI glue
 * ({@code native/binding/lstm4j_jni.h}) reports every C++ exception as a {@link RuntimeException}
 * whose message is {@code "lstm4j:<ErrorKind code>:<message>"}; invalid input becomes an
 * {@link IllegalArgumentException}, everything else a {@link NativeException} of the matching kind.
 */
public final class NativeErrors {
    private static final String PREFIX = "lstm4j:";

    private NativeErrors() {}

    /** The exception to throw for {@code e}, thrown by a native call of the binding. */
    public static RuntimeException translate(RuntimeException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        NativeCodes.ErrorKind kind = NativeCodes.ErrorKind.INTERNAL;
        int colon = message.indexOf(':', PREFIX.length());
        if (message.startsWith(PREFIX) && colon > PREFIX.length()) {
            try {
                kind = NativeCodes.ErrorKind.of(Integer.parseInt(message.substring(PREFIX.length(), colon)));
                message = message.substring(colon + 1);
            } catch (NumberFormatException notOurs) {
                // not from our glue: keep the whole message
            }
        } else if (!(e.getClass() == RuntimeException.class)) {
            return e;  // a Java exception raised on the way (e.g. by JavaCPP itself): already precise
        }
        RuntimeException translated;
        switch (kind) {
            case INVALID_ARGUMENT:
                translated = new IllegalArgumentException(message);
                break;
            case OUT_OF_MEMORY:
                translated = new NativeException(NativeException.Kind.OUT_OF_MEMORY, message);
                break;
            case TORCH:
                translated = new NativeException(NativeException.Kind.LIBTORCH, message);
                break;
            case UNAVAILABLE:
                translated = new NativeException(NativeException.Kind.UNAVAILABLE, message);
                break;
            default:
                translated = new NativeException(NativeException.Kind.INTERNAL, message);
                break;
        }
        translated.setStackTrace(e.getStackTrace());
        return translated;
    }
}
