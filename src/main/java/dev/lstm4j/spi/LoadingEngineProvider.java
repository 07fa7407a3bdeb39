package dev.lstm4j.spi;

/**
 * Base of providers that must load native code first: it runs the loader once, at construction,
 * and turns a failure into {@link #unavailableReason()} instead of an error at class-loading time.
 */
public abstract class LoadingEngineProvider implements EngineProvider {
    private final String unavailableReason;

    /**
     * Runs {@code loader}; if it throws, the backend is unavailable for the reason {@code what: cause}.
     *
     * @param what   what was being loaded, for the message
     * @param loader loads the native libraries
     */
    protected LoadingEngineProvider(String what, Runnable loader) {
        String reason = null;
        try {
            loader.run();
        } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError, ...: reported, never swallowed
            StringBuilder why = new StringBuilder("cannot load ").append(what).append(": ").append(e);
            // An ExceptionInInitializerError, say, says nothing without its cause.
            int depth = 0;
            for (Throwable c = e.getCause(); c != null && depth < 4; c = c.getCause(), depth++) {
                why.append(", caused by ").append(c);
            }
            reason = why.toString();
        }
        this.unavailableReason = reason;
    }

    @Override
    public final boolean isAvailable() {
        return unavailableReason == null;
    }

    @Override
    public final String unavailableReason() {
        return unavailableReason;
    }
}
