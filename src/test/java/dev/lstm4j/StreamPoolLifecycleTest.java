package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pool's lifecycle: backpressure, idle expiry, closing streams and the pool with frames pending,
 * submits after close, engine failures reaching the futures, argument checks. A maxWait of an hour
 * holds frames in the queue until a batch fills or the pool closes, so the queue states are exact.
 */
class StreamPoolLifecycleTest {
    private static final int IN = 5;
    private static final int HIDDEN = 8;
    private Lstm lstm;

    @BeforeEach
    void createModel() {
        LstmConfig config = LstmConfig.builder(IN, HIDDEN).numLayers(2).build();
        lstm = Lstm.create(config, TestSupport.randomWeights(config.parameterShapes(), HIDDEN, DType.FLOAT32,
                new Random(11)), Backend.JAVA, Device.cpu());
    }

    @AfterEach
    void closeModel() {
        lstm.close();
    }

    private static Tensor frame(Random rnd) {
        return TestSupport.random(new int[] {IN}, DType.FLOAT32, rnd, 1.0);
    }

    /** The outputs of these frames run alone from the zero state, each (1, 1, HIDDEN) flattened. */
    private float[][] alone(List<Tensor> frames) {
        LstmState st = lstm.newState(1);
        float[][] out = new float[frames.size()][];
        for (int i = 0; i < frames.size(); i++) {
            Tensor o = Tensor.zeros(DType.FLOAT32, 1, 1, HIDDEN);
            lstm.forwardInto(frames.get(i).reshape(1, 1, IN), st, o);
            out[i] = o.floatData();
        }
        return out;
    }

    @Test
    void backpressureRejectsAtTheBoundsAndCloseRunsEveryQueuedFrame() {
        Random rnd = new Random(1);
        LstmStreamPool pool = LstmStreamPool.builder(lstm).maxWait(Duration.ofHours(1)).maxPendingPerStream(3)
                .maxPendingTotal(5).build();
        LstmStream a = pool.open();
        LstmStream b = pool.open();
        List<Tensor> framesA = new ArrayList<>();
        List<CompletableFuture<Tensor>> futuresA = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            framesA.add(frame(rnd));
            futuresA.add(a.submit(framesA.get(i)));
        }
        RejectedExecutionException perStream = assertThrows(RejectedExecutionException.class,
                () -> a.submit(frame(rnd)));
        assertTrue(perStream.getMessage().startsWith("stream 0: 3 frames pending, at most 3 per stream "
                + "(maxPendingPerStream)"), perStream.getMessage());
        assertEquals(3, a.pending());
        List<Tensor> framesB = List.of(frame(rnd), frame(rnd));
        List<CompletableFuture<Tensor>> futuresB = List.of(b.submit(framesB.get(0)), b.submit(framesB.get(1)));
        RejectedExecutionException total = assertThrows(RejectedExecutionException.class,
                () -> b.submit(frame(rnd)));
        assertTrue(total.getMessage().startsWith("stream pool: 5 frames pending in all streams, at most 5 "
                + "(maxPendingTotal)"), total.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> a.submit(Tensor.zeros(DType.FLOAT32, 4, IN))).getMessage()
                .startsWith("frame: a chunk of 4 steps can never fit the stream's queue of 3"));
        assertEquals(5, pool.stats().pendingFrames());
        assertTrue(futuresA.stream().noneMatch(CompletableFuture::isDone), "nothing ran: the batch is not full");

        pool.close(); // drains: every queued frame runs, in order, from its stream's state
        float[][] wantA = alone(framesA);
        for (int i = 0; i < 3; i++) {
            assertTrue(Arrays.equals(wantA[i], futuresA.get(i).join().floatData()), "frame " + i + " of a");
        }
        float[][] wantB = alone(framesB);
        for (int i = 0; i < 2; i++) {
            assertTrue(Arrays.equals(wantB[i], futuresB.get(i).join().floatData()), "frame " + i + " of b");
        }
        assertEquals(0, pool.stats().pendingFrames());
        assertEquals(0, pool.stats().openStreams());
        assertFalse(a.isOpen());
        assertEquals("stream pool is closed",
                assertThrows(IllegalStateException.class, () -> a.submit(frame(rnd))).getMessage());
        assertEquals("stream pool is closed", assertThrows(IllegalStateException.class, pool::open).getMessage());
        pool.close(); // idempotent
    }

    @Test
    void closeNowCancelsQueuedFramesAndLeavesNoFutureIncomplete() {
        Random rnd = new Random(2);
        LstmStreamPool pool = LstmStreamPool.builder(lstm).maxWait(Duration.ofHours(1)).build();
        List<CompletableFuture<Tensor>> futures = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            LstmStream stream = pool.open();
            for (int i = 0; i < 3; i++) {
                futures.add(stream.submit(frame(rnd)));
            }
        }
        pool.closeNow();
        for (CompletableFuture<Tensor> f : futures) {
            assertTrue(f.isDone(), "every future is done after closeNow");
            CancellationException e = assertThrows(CancellationException.class, f::join);
            assertTrue(e.getMessage().startsWith("the stream pool was closed before this frame ran"), e.getMessage());
        }
        assertEquals(new LstmStreamPool.Stats(0, 0, 0, 0, 0), pool.stats());
    }

    @Test
    void aClosedStreamRunsItsPendingFramesThenFreesItsSlot() {
        Random rnd = new Random(3);
        try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxBatch(4).maxWait(Duration.ofHours(1)).build()) {
            LstmStream s = pool.open();
            List<Tensor> frames = List.of(frame(rnd), frame(rnd), frame(rnd));
            List<CompletableFuture<Tensor>> futures = new ArrayList<>();
            for (Tensor f : frames) {
                futures.add(s.submit(f));
            }
            s.close();
            assertFalse(s.isOpen());
            assertEquals("stream 0 is closed",
                    assertThrows(IllegalStateException.class, () -> s.submit(frame(rnd))).getMessage());
            assertEquals(1, pool.stats().openStreams(), "the closing stream keeps its slot until its frames ran");
            assertFalse(futures.get(0).isDone());
            // Three more streams fill the batch of four: s's first frame runs with them, then the rest.
            List<LstmStream> others = List.of(pool.open(), pool.open(), pool.open());
            for (LstmStream o : others) {
                o.submit(frame(rnd));
            }
            float[][] want = alone(frames);
            assertTrue(Arrays.equals(want[0], futures.get(0).join().floatData()), "frame 0");
            assertFalse(futures.get(1).isDone(), "the next batch is not full yet");
            for (int round = 0; round < 2; round++) { // two more full batches: s's last two frames run
                for (LstmStream o : others) {
                    o.submit(frame(rnd));
                }
            }
            for (int i = 0; i < 3; i++) {
                assertTrue(Arrays.equals(want[i], futures.get(i).join().floatData()), "frame " + i);
            }
            assertEquals(3, pool.stats().openStreams(), "s's slot was freed after its last frame");
            assertEquals("stream 0 is closed", assertThrows(IllegalStateException.class, s::state).getMessage());
            LstmStream reused = pool.open();
            assertEquals(List.of(2, HIDDEN), List.of(reused.state().h().shape()[0], reused.state().h().shape()[1]));
            assertTrue(Arrays.equals(new float[2 * HIDDEN], reused.state().h().floatData()), "a reused slot starts at zero");
        }
    }

    @Test
    void slotsAreReusedFromTheZeroStateOrTheGivenOne() {
        Random rnd = new Random(4);
        try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxWait(Duration.ZERO).build()) {
            Tensor f = frame(rnd);
            LstmStream first = pool.open();
            Tensor out1 = first.step(f);
            first.step(frame(rnd));
            first.close();
            LstmStream second = pool.open(); // takes the freed slot: zeroed, not the old state
            assertTrue(Arrays.equals(out1.floatData(), second.step(f).floatData()));
            LstmStream.State st = second.state();
            assertEquals(List.of(2, HIDDEN), List.of(st.h().shape()[0], st.h().shape()[1]));
            LstmStream resumed = pool.open(st.h(), st.c()); // a stream moved: same state, same next output
            Tensor g = frame(rnd);
            Tensor mine = Tensor.zeros(DType.FLOAT32, HIDDEN); // into the caller's output
            assertSame(mine, resumed.submit(g, mine).join());
            assertTrue(Arrays.equals(second.step(g).floatData(), mine.floatData()));
            assertTrue(Arrays.equals(second.state().c().floatData(), resumed.state().c().floatData()));
            Tensor chunk = TestSupport.random(new int[] {3, IN}, DType.FLOAT32, rnd, 1.0); // (T, input_size)
            Tensor chunkOut = second.step(chunk);
            assertEquals(List.of(3, HIDDEN), List.of(chunkOut.shape()[0], chunkOut.shape()[1]));
            assertEquals(0, second.pending());
        }
    }

    @Test
    void idleStreamsExpireAndActiveOnesDoNot() throws Exception {
        Random rnd = new Random(5);
        List<LstmStream> expired = new CopyOnWriteArrayList<>();
        try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxWait(Duration.ZERO)
                .idleTimeout(Duration.ofMillis(300)).onExpire(expired::add).build()) {
            LstmStream idle = pool.open();
            LstmStream busy = pool.open();
            idle.step(frame(rnd));
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1200);
            while (System.nanoTime() < end) {
                busy.step(frame(rnd));
                Thread.sleep(10);
            }
            assertTrue(idle.expired());
            assertFalse(idle.isOpen());
            assertEquals(List.of(idle), expired);
            assertTrue(busy.isOpen());
            assertFalse(busy.expired());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> idle.submit(frame(rnd)));
            assertEquals("stream 0 expired after idling for 300 ms (idleTimeout)", e.getMessage());
            assertEquals(1, pool.stats().openStreams());
        }
    }

    @Test
    void engineFailuresReachTheFuturesAndEndTheirStreams() {
        Random rnd = new Random(6);
        try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxWait(Duration.ofHours(1)).maxBatch(2).build()) {
            LstmStream a = pool.open();
            LstmStream b = pool.open();
            List<CompletableFuture<Tensor>> futures = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                futures.add(a.submit(frame(rnd)));
            }
            lstm.close(); // from now on the engine throws
            futures.add(b.submit(frame(rnd))); // the batch of two is full: a's first frame and b's run, and fail
            Throwable cause = null;
            for (CompletableFuture<Tensor> f : futures) {
                CompletionException e = assertThrows(CompletionException.class, f::join);
                assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
                assertEquals("Lstm is closed", e.getCause().getMessage());
                cause = cause == null ? e.getCause() : cause;
                assertSame(cause, e.getCause(), "every frame of the failed streams gets the engine's exception");
            }
            // a's later frames could not have matched a run alone: they failed too, and so did the stream.
            IllegalStateException again = assertThrows(IllegalStateException.class, () -> a.submit(frame(rnd)));
            assertEquals("stream 0 failed: java.lang.IllegalStateException: Lstm is closed", again.getMessage());
            assertSame(cause, again.getCause());
            assertFalse(b.isOpen());
            assertEquals(0, pool.stats().openStreams());
        }
        try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxWait(Duration.ZERO).build()) {
            // step() throws the engine's exception itself, not a wrapper
            assertEquals("Lstm is closed", assertThrows(IllegalStateException.class,
                    () -> pool.open().step(frame(rnd))).getMessage());
        }
    }

    /**
     * With stepThreads(2), a second scheduler thread runs other streams' steps while the first is held
     * (here in a completion that blocks); with one thread nothing else runs meanwhile. maxBatch 2 and an
     * hour's maxWait make every step wait for a pair, so the order of events is fixed. Both pools then
     * close with every frame run, in order, from its stream's state.
     */
    @Test
    void aSecondStepThreadRunsOtherStreamsWhileTheFirstIsBusy() throws Exception {
        for (int stepThreads : new int[] {1, 2}) {
            Random rnd = new Random(8);
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            LstmStreamPool pool = LstmStreamPool.builder(lstm).maxBatch(2).maxWait(Duration.ofHours(1))
                    .stepThreads(stepThreads).build();
            LstmStream a = pool.open();
            LstmStream c = pool.open();
            LstmStream b = pool.open();
            LstmStream d = pool.open();
            List<Tensor> framesA = List.of(frame(rnd), frame(rnd));
            List<Tensor> framesC = List.of(frame(rnd));
            List<Tensor> framesB = List.of(frame(rnd));
            List<Tensor> framesD = List.of(frame(rnd));
            CompletableFuture<Tensor> a0 = a.submit(framesA.get(0)); // waits for a second frame
            a0.thenRun(() -> {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            CompletableFuture<Tensor> c0 = c.submit(framesC.get(0)); // the pair runs; a0's completion holds
            assertTrue(held.await(10, TimeUnit.SECONDS), "the first pair ran");
            CompletableFuture<Tensor> b0 = b.submit(framesB.get(0));
            CompletableFuture<Tensor> d0 = d.submit(framesD.get(0)); // a pair
            if (stepThreads == 2) {
                b0.get(10, TimeUnit.SECONDS); // ran on the second thread while the first is held
                d0.get(10, TimeUnit.SECONDS);
            } else {
                Thread.sleep(200);
                assertFalse(b0.isDone() || d0.isDone(), "one step thread: nothing runs while it is held");
            }
            CompletableFuture<Tensor> a1 = a.submit(framesA.get(1)); // alone: waits until close
            release.countDown();
            pool.close();
            float[][] wantA = alone(framesA);
            assertTrue(Arrays.equals(wantA[0], a0.join().floatData()), "a0, stepThreads=" + stepThreads);
            assertTrue(Arrays.equals(wantA[1], a1.join().floatData()), "a1, stepThreads=" + stepThreads);
            assertTrue(Arrays.equals(alone(framesC)[0], c0.join().floatData()), "c0, stepThreads=" + stepThreads);
            assertTrue(Arrays.equals(alone(framesB)[0], b0.join().floatData()), "b0, stepThreads=" + stepThreads);
            assertTrue(Arrays.equals(alone(framesD)[0], d0.join().floatData()), "d0, stepThreads=" + stepThreads);
            assertEquals(5, pool.stats().frames());
        }
    }

    @Test
    void completionsRunOnTheGivenExecutor() throws Exception {
        ExecutorService exec = Executors.newSingleThreadExecutor(r -> new Thread(r, "completions"));
        try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxWait(Duration.ZERO).completionExecutor(exec)
                .threadFactory(r -> new Thread(r, "my-scheduler")).build()) {
            LstmStream s = pool.open();
            CompletableFuture<String> thread = new CompletableFuture<>();
            // Registered before the frame can complete: the submit happens inside the executor's task.
            exec.submit(() -> s.submit(frame(new Random(7))).thenRun(
                    () -> thread.complete(Thread.currentThread().getName()))).get();
            assertEquals("completions", thread.get(10, TimeUnit.SECONDS));
        } finally {
            exec.shutdown();
        }
    }

    @Test
    void badArgumentsAreNamed() {
        LstmConfig bi = LstmConfig.builder(IN, HIDDEN).bidirectional(true).build();
        try (Lstm bidirectional = Lstm.create(bi, TestSupport.randomWeights(bi.parameterShapes(), HIDDEN,
                DType.FLOAT32, new Random(8)), Backend.JAVA, Device.cpu())) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> LstmStreamPool.builder(bidirectional))
                    .getMessage().startsWith("model: a stream pool needs a unidirectional LSTM"));
        }
        assertEquals("maxBatch: expected a positive number, got 0", assertThrows(IllegalArgumentException.class,
                () -> LstmStreamPool.builder(lstm).maxBatch(0)).getMessage());
        assertEquals("stepThreads: expected a positive number, got 0", assertThrows(IllegalArgumentException.class,
                () -> LstmStreamPool.builder(lstm).stepThreads(0)).getMessage());
        assertEquals("maxWait: expected a duration >= 0, got PT-1S", assertThrows(IllegalArgumentException.class,
                () -> LstmStreamPool.builder(lstm).maxWait(Duration.ofSeconds(-1))).getMessage());
        try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxStreams(2).build();
                LstmStreamPool other = LstmStreamPool.builder(lstm).build()) {
            LstmStream s = pool.open();
            assertEquals("frame has inconsistent input_size: got 7, expected 5", assertThrows(
                    IllegalArgumentException.class, () -> s.submit(Tensor.zeros(DType.FLOAT32, 7))).getMessage());
            assertEquals("frame: expected dtype " + DType.FLOAT32 + ", got " + DType.FLOAT64, assertThrows(
                    IllegalArgumentException.class, () -> s.submit(Tensor.zeros(DType.FLOAT64, IN))).getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> s.submit(Tensor.zeros(DType.FLOAT32, 1, 1, IN))).getMessage()
                    .startsWith("frame: expected a 1-D (input_size) frame or a 2-D (T, input_size) chunk, got 3-D"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> s.submit(Tensor.zeros(DType.FLOAT32, IN), Tensor.zeros(DType.FLOAT32, 3))).getMessage()
                    .startsWith("output: expected " + DType.FLOAT32 + " of shape [8], got"));
            assertEquals("h0: expected shape [2, 8] (num_layers, proj_size or hidden_size), got [1, 8]",
                    assertThrows(IllegalArgumentException.class, () -> pool.open(Tensor.zeros(DType.FLOAT32, 1, 8),
                            Tensor.zeros(DType.FLOAT32, 2, 8))).getMessage());
            assertEquals("(h0, c0): pass both or neither, got only h0", assertThrows(IllegalArgumentException.class,
                    () -> pool.open(Tensor.zeros(DType.FLOAT32, 2, 8), null)).getMessage());
            pool.open();
            assertTrue(assertThrows(IllegalStateException.class, pool::open).getMessage()
                    .startsWith("stream pool: 2 streams open, at most 2 (maxStreams)"));
            LstmStream foreign = other.open();
            assertEquals("stream: belongs to another pool", assertThrows(IllegalArgumentException.class,
                    () -> pool.submit(foreign, Tensor.zeros(DType.FLOAT32, IN), null)).getMessage());
        }
    }
}
