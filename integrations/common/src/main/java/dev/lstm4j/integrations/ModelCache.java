package dev.lstm4j.integrations;

import dev.lstm4j.Lstm;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * The models of one JVM (a Spark executor, a Flink TaskManager), built once per key (content hash of
 * the weights plus how they are run) and shared by every task that asks for the same key.
 *
 * <p>Bounded: when more than {@code capacity} models are cached, the least recently used one that no
 * task holds is closed. A model in use is never closed under a task: eviction waits for its last
 * {@link Lease} to be released. All models are closed at JVM shutdown. Concurrent requests for a key
 * that is still loading wait for that one load instead of loading again.
 *
 * <p>This is the one piece of per-JVM state of the integration, on purpose: a model's native memory
 * and weights must outlive single tasks, or each task would pay for loading it.
 */
public final class ModelCache {
    /** The JVM-wide cache; its size is the system property {@code lstm4j.modelCacheSize} (default 4). */
    public static final ModelCache SHARED = new ModelCache(Integer.getInteger("lstm4j.modelCacheSize", 4));

    private final int capacity;
    private final Map<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true); // access order: LRU first
    private int loads;
    private boolean hookInstalled;
    private boolean shutDown;

    ModelCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("lstm4j.modelCacheSize: expected >= 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** A model in use by one task; {@link #close()} hands it back (idempotent). */
    public static final class Lease implements AutoCloseable {
        private final ModelCache cache;
        private final Entry entry;
        private final Lstm model;
        private boolean released;

        private Lease(ModelCache cache, Entry entry, Lstm model) {
            this.cache = cache;
            this.entry = entry;
            this.model = model;
        }

        /** The model; valid until this lease is closed. */
        public Lstm model() {
            return model;
        }

        @Override
        public void close() {
            synchronized (cache) {
                if (released) {
                    return;
                }
                released = true;
            }
            cache.release(entry);
        }
    }

    private static final class Entry {
        final String key;
        final CompletableFuture<Lstm> model = new CompletableFuture<>();
        int refs;
        boolean evicted;

        Entry(String key) {
            this.key = key;
        }
    }

    /**
     * The model of {@code key}, built by {@code loader} if no other task has built it.
     *
     * @throws RuntimeException what {@code loader} threw (for every task waiting on that load)
     */
    public Lease acquire(String key, Supplier<Lstm> loader) {
        Objects.requireNonNull(key, "key");
        Entry entry;
        boolean mine = false;
        synchronized (this) {
            if (shutDown) {
                throw new IllegalStateException("lstm4j model cache: the JVM is shutting down");
            }
            installHook();
            entry = entries.get(key);
            if (entry == null) {
                entry = new Entry(key);
                entries.put(key, entry);
                mine = true;
                loads++;
            }
            entry.refs++;
        }
        if (mine) {
            try {
                entry.model.complete(loader.get());
            } catch (RuntimeException | Error e) {
                entry.model.completeExceptionally(e);
                synchronized (this) {
                    entries.remove(key, entry);
                    entry.refs--;
                }
                throw e;
            }
            trim();
        }
        try {
            return new Lease(this, entry, entry.model.join());
        } catch (CompletionException e) {
            synchronized (this) {
                entry.refs--;
            }
            throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : e;
        }
    }

    /** How many models this cache has started to build since the JVM started (for tests and logs). */
    public synchronized int loads() {
        return loads;
    }

    /** How many models it holds now. */
    public synchronized int size() {
        return entries.size();
    }

    private void release(Entry entry) {
        boolean closeNow;
        synchronized (this) {
            entry.refs--;
            closeNow = entry.refs == 0 && entry.evicted;
        }
        if (closeNow) {
            closeQuietly(entry);
        }
        trim();
    }

    /** Closes least recently used idle models until at most {@code capacity} remain. */
    private void trim() {
        List<Entry> toClose = new ArrayList<>();
        synchronized (this) {
            Iterator<Entry> it = entries.values().iterator();
            int excess = entries.size() - capacity;
            while (excess > 0 && it.hasNext()) {
                Entry e = it.next();
                if (e.refs == 0 && e.model.isDone()) {
                    it.remove();
                    e.evicted = true;
                    toClose.add(e);
                    excess--;
                }
            }
        }
        toClose.forEach(ModelCache::closeQuietly);
    }

    /** Closes every model (at JVM shutdown; also for tests). Later acquisitions fail. */
    void closeAll() {
        List<Entry> all;
        synchronized (this) {
            shutDown = true;
            all = new ArrayList<>(entries.values());
            entries.clear();
        }
        all.forEach(ModelCache::closeQuietly);
    }

    private void installHook() {
        if (!hookInstalled && this == SHARED) {
            hookInstalled = true;
            Runtime.getRuntime().addShutdownHook(new Thread(this::closeAll, "lstm4j-model-cache-close"));
        }
    }

    private static void closeQuietly(Entry e) {
        if (e.model.isDone() && !e.model.isCompletedExceptionally()) {
            Lstm m = e.model.join();
            m.close(); // waits for forward calls in flight, if a task is still finishing
        }
    }
}
