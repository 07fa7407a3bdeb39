package dev.lstm4j;

/**
 * A failure inside the native code of the {@link Backend#NATIVE} backend that is not the caller's
 * invalid input (that is an {@link IllegalArgumentException}): memory that could not be allocated,
 * a LibTorch call that failed, a device that cannot be used, or a bug. The message carries the
 * native side's own text, LibTorch's included; {@link #kind()} says which it is.
 */
public class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of native failure this is. */
    public enum Kind {
        /** A native allocation failed; the message says how many bytes were asked for. */
        OUT_OF_MEMORY,
        /** A LibTorch call failed; the message carries LibTorch's own message. */
        LIBTORCH,
        /** The device or native library asked for cannot be used here. */
        UNAVAILABLE,
        /** Anything else: a bug in lstm4j's native code. */
        INTERNAL
    }

    private final Kind kind;

    /**
     * @param kind what kind of failure
     * @param message the native side's message
     */
    public NativeException(Kind kind, String message) {
        super(message);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    /** What kind of failure this is. */
    public Kind kind() {
        return kind;
    }
}
