package dev.lstm4j;

import dev.lstm4j.spi.EngineProvider;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds each backend's {@link EngineProvider} by class name, so the API links none of them, and picks
 * the backend of the no-backend {@code create} methods.
 */
final class Engines {
    private static final Map<Backend, EngineProvider> PROVIDERS = new EnumMap<>(Backend.class);
    /** Why a backend's provider class could not be loaded; kept, so the reason stays the same per process. */
    private static final Map<Backend, IllegalStateException> MISSING = new EnumMap<>(Backend.class);
    /** Fallback reasons already logged: one line per process and reason, not per model. */
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();
    private static final System.Logger LOG = System.getLogger("dev.lstm4j");

    private Engines() {
    }

    /** The provider of {@code backend}, instantiated once. */
    static synchronized EngineProvider provider(Backend backend) {
        EngineProvider p = PROVIDERS.get(backend);
        if (p != null) {
            return p;
        }
        IllegalStateException missing = MISSING.get(backend);
        if (missing == null) {
            try {
                p = (EngineProvider) Class.forName(backend.providerClass()).getDeclaredConstructor().newInstance();
                PROVIDERS.put(backend, p);
                return p;
            } catch (ClassNotFoundException e) {
                missing = new IllegalStateException("backend " + backend + " is not on the class path ("
                        + backend.providerClass() + " not found)", e);
            } catch (ReflectiveOperationException | LinkageError e) {
                // NoClassDefFoundError: the provider is there but what it links (JavaCPP, say) is not.
                missing = new IllegalStateException("backend " + backend + " cannot be loaded ("
                        + backend.providerClass() + "): " + e + (e instanceof NoClassDefFoundError
                        ? " (a class it needs is not on the class path)" : ""), e);
            }
            MISSING.put(backend, missing);
        }
        throw new IllegalStateException(missing.getMessage(), missing.getCause());
    }

    /** Why {@code backend} cannot run here, or null when it can. Never throws. */
    static String unavailableReason(Backend backend) {
        EngineProvider p;
        try {
            p = provider(backend);
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        return p.isAvailable() ? null : "backend " + backend + " is not available: " + p.unavailableReason();
    }

    /** The provider of {@code backend}, checked to be usable on this machine. */
    static EngineProvider available(Backend backend) {
        EngineProvider p = provider(backend);
        if (!p.isAvailable()) {
            throw new IllegalStateException("backend " + backend + " is not available: " + p.unavailableReason());
        }
        return p;
    }

    /**
     * The backend of {@code Lstm.create(config, weights)} and {@code LstmCell.create(config, weights)}:
     * NATIVE where its native library loads, otherwise JAVA (same results, no native code), saying why
     * in one log line per process and reason.
     */
    static Backend defaultBackend() {
        String reason = unavailableReason(Backend.NATIVE);
        if (reason == null) {
            return Backend.NATIVE;
        }
        if (LOGGED.add(reason)) {
            LOG.log(System.Logger.Level.INFO, "lstm4j uses backend JAVA (pure Java, the same results) for models "
                    + "created without a backend: " + reason.replace('\n', ' '));
        }
        return Backend.JAVA;
    }
}
