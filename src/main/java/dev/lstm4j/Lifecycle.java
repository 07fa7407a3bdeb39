package dev.lstm4j;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The open/closed state of a model holding native memory: any number of forward calls at once,
 * and a close that waits for them and then frees the engine exactly once.
 */
final class Lifecycle {
    private final String what;
    private final AutoCloseable resource;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    Lifecycle(String what, AutoCloseable resource) {
        this.what = what;
        this.resource = resource;
    }

    /** Runs {@code call} unless closed; close() cannot free the engine while it runs. */
    void run(Runnable call) {
        call(() -> {
            call.run();
            return null;
        });
    }

    /** {@link #run} for a call with a result. */
    <R> R call(java.util.function.Supplier<R> call) {
        ReentrantReadWriteLock.ReadLock read = lock.readLock();
        read.lock();
        try {
            if (closed) {
                throw new IllegalStateException(what + " is closed");
            }
            return call.get();
        } finally {
            read.unlock();
        }
    }

    /** Frees the resource once; later calls do nothing. */
    void close() {
        ReentrantReadWriteLock.WriteLock write = lock.writeLock();
        write.lock();
        try {
            if (!closed) {
                closed = true;
                resource.close();
            }
        } catch (Exception e) {
            throw new IllegalStateException("closing " + what + " failed: " + e.getMessage(), e);
        } finally {
            write.unlock();
        }
    }
}
