package dev.lstm4j.integrations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The executor-side model cache: one build per key, bounded, never closing a model a task holds. */
class ModelCacheTest {
    private static final LstmConfig CONFIG = LstmConfig.builder(2, 3).batchFirst(true).build();
    private static final Tensor X = Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 2);

    private static Lstm model() {
        Map<String, Tensor> w = new LinkedHashMap<>();
        CONFIG.parameterShapes().forEach((k, s) -> w.put(k, Tensor.zeros(dev.lstm4j.DType.FLOAT32, s)));
        return Lstm.create(CONFIG, StateDict.of(w), Backend.JAVA, Device.cpu());
    }

    @Test
    void concurrentRequestsForOneKeyBuildOnce() throws Exception {
        ModelCache cache = new ModelCache(2);
        AtomicInteger builds = new AtomicInteger();
        CountDownLatch inLoader = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<?>[] f = new Future<?>[4];
            for (int i = 0; i < 4; i++) {
                f[i] = pool.submit(() -> {
                    try (ModelCache.Lease l = cache.acquire("k", () -> {
                        builds.incrementAndGet();
                        inLoader.countDown();
                        try {
                            release.await();  // the others arrive while this build is in progress
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        return model();
                    })) {
                        l.model().forward(X);
                    }
                    return null;
                });
            }
            inLoader.await();
            Thread.sleep(100);
            release.countDown();
            for (Future<?> x : f) {
                x.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, builds.get());
        assertEquals(1, cache.loads());
        cache.closeAll();
    }

    @Test
    void overCapacityClosesTheLeastRecentlyUsedIdleModelButNeverOneInUse() {
        ModelCache cache = new ModelCache(1);
        ModelCache.Lease a = cache.acquire("a", ModelCacheTest::model);
        ModelCache.Lease b = cache.acquire("b", ModelCacheTest::model);
        assertEquals(2, cache.size(), "a is in use: kept over capacity");
        a.model().forward(X);  // still open
        a.close();
        assertEquals(1, cache.size(), "a, idle now, is evicted");
        assertThrows(IllegalStateException.class, () -> a.model().forward(X), "an evicted model is closed");
        b.model().forward(X);
        b.close();
        a.close();  // idempotent: does not release b's entry twice
        try (ModelCache.Lease again = cache.acquire("b", () -> {
            throw new AssertionError("b is cached");
        })) {
            assertSame(b.model(), again.model());
        }
        assertEquals(2, cache.loads());
        cache.closeAll();
        assertThrows(IllegalStateException.class, () -> b.model().forward(X), "closed at shutdown");
        assertThrows(IllegalStateException.class, () -> cache.acquire("c", ModelCacheTest::model));
    }

    @Test
    void aFailedBuildIsReportedAndNotCached() {
        ModelCache cache = new ModelCache(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cache.acquire("k", () -> {
                    throw new IllegalArgumentException("weights do not fit");
                }));
        assertEquals("weights do not fit", e.getMessage());
        assertEquals(0, cache.size());
        try (ModelCache.Lease l = cache.acquire("k", ModelCacheTest::model)) {
            l.model().forward(X);
        }
        assertEquals(2, cache.loads());
        cache.closeAll();
    }
}
