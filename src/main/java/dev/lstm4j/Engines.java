package dev.lstm4j;

import dev.lstm4j.spi.EngineProvider;
import java.util.EnumMap;
import java.util.Map;

/** Finds each backend's {@link EngineProvider} by class name, so the API links none of them. */
final class Engines {
    private static final Map<Backend, EngineProvider> PROVIDERS = new EnumMap<>(Backend.class);

    private Engines() {
    }

    /** The provider of {@code backend}, instantiated once. */
    static synchronized EngineProvider provider(Backend backend) {
        EngineProvider p = PROVIDERS.get(backend);
        if (p == null) {
            try {
                p = (EngineProvider) Class.forName(backend.providerClass()).getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                throw new IllegalStateException("backend " + backend + " is not on the class path ("
                        + backend.providerClass() + "): " + e, e);
            }
            PROVIDERS.put(backend, p);
        }
        return p;
    }

    /** The provider of {@code backend}, checked to be usable on this machine. */
    static EngineProvider available(Backend backend) {
        EngineProvider p = provider(backend);
        if (!p.isAvailable()) {
            throw new IllegalStateException("backend " + backend + " is not available: " + p.unavailableReason());
        }
        return p;
    }
}
