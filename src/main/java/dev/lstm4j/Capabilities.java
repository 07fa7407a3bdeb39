package dev.lstm4j;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Objects;

/**
 * {@link Lstm#unwrap}: hands out a backend's documented extension interfaces, each as a guard that
 * implements that one interface and runs every call under the model's {@link Lifecycle}, so that a
 * caller can neither reach the engine (whose methods skip validation and the lifecycle) nor call
 * into a closed model. Interfaces are named by {@link Backend#extensions()}, so the API links none of
 * them.
 */
final class Capabilities {
    private Capabilities() {
    }

    static <T> T unwrap(Class<T> type, Backend backend, Object engine, Lifecycle lifecycle, Object model) {
        Objects.requireNonNull(type, "type");
        if (!type.isInterface() || !backend.extensions().contains(type.getName()) || !type.isInstance(engine)) {
            throw new IllegalArgumentException("type: the " + backend + " backend offers no " + type.getName()
                    + (backend.extensions().isEmpty() ? " (it has no extensions)"
                            : " (it offers " + String.join(", ", backend.extensions()) + ")"));
        }
        InvocationHandler guard = new Guard(type, engine, lifecycle, model);
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, guard));
    }

    /** Forwards the interface's methods to the engine under the lifecycle; Object's methods stay its own. */
    private static final class Guard implements InvocationHandler {
        private final Class<?> type;
        private final Object engine;
        private final Lifecycle lifecycle;
        private final Object model;

        Guard(Class<?> type, Object engine, Lifecycle lifecycle, Object model) {
            this.type = type;
            this.engine = engine;
            this.lifecycle = lifecycle;
            this.model = model;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                switch (method.getName()) {
                    case "equals":
                        return proxy == args[0];
                    case "hashCode":
                        return System.identityHashCode(proxy);
                    default:
                        return type.getSimpleName() + " of " + model;
                }
            }
            try {
                return lifecycle.call(() -> {
                    try {
                        return method.invoke(engine, args);
                    } catch (InvocationTargetException e) {
                        throw new Rethrow(e.getCause());
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("cannot call " + method + ": " + e, e);
                    }
                });
            } catch (Rethrow r) {
                throw r.getCause(); // the engine's own exception, unwrapped
            }
        }
    }

    /** Carries an engine's exception out of the lifecycle's call unchanged. */
    private static final class Rethrow extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Rethrow(Throwable cause) {
            super(null, cause, false, false);
        }
    }
}
