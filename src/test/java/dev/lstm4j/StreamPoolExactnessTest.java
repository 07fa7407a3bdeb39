package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Streams served by a pool, under many client threads with random arrival orders, frame and chunk
 * sizes, initial states and stream churn (slots reused), give exactly the outputs and states of running
 * each stream alone through {@link Lstm#forwardInto}: bit for bit on NATIVE and JAVA, within float
 * rounding on LIBTORCH (LibTorch's BLAS is not batch-invariant). The batch
 * sizes reached cross the kernels' thresholds (team splits, B >= 32 fused input projection, 64-row
 * blocks).
 */
class StreamPoolExactnessTest {
    static Stream<Arguments> cases() {
        List<Arguments> args = new ArrayList<>();
        for (Backend b : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            args.add(Arguments.of(b, DType.FLOAT32, 1, 0, false, 64, 80, 1));
            args.add(Arguments.of(b, DType.FLOAT32, 2, 5, true, 24, 80, 1));
            args.add(Arguments.of(b, DType.FLOAT32, 2, 0, false, 256, 72, 1));
            args.add(Arguments.of(b, DType.FLOAT64, 2, 7, false, 40, 80, 1));
            // Several steps at once (stepThreads): each stream is still in one step at a time.
            args.add(Arguments.of(b, DType.FLOAT32, 2, 5, false, 64, 40, 2));
            args.add(Arguments.of(b, DType.FLOAT64, 1, 0, true, 24, 40, 3));
        }
        args.add(Arguments.of(Backend.LIBTORCH, DType.FLOAT32, 2, 5, true, 24, 80, 1));
        args.add(Arguments.of(Backend.LIBTORCH, DType.FLOAT64, 1, 0, false, 64, 80, 1));
        return args.stream();
    }

    /** One client session: a stream from an initial state, its frames, and what the pool returned. */
    private static final class Session {
        Tensor h0;
        Tensor c0;
        final List<Tensor> frames = new ArrayList<>();
        final List<CompletableFuture<Tensor>> outputs = new ArrayList<>();
        LstmStream.State last;
    }

    @ParameterizedTest(name = "{0} {1} layers={2} proj={3} batch_first={4} hidden={5} maxBatch={6} stepThreads={7}")
    @MethodSource("cases")
    void pooledStreamsEqualEachStreamAlone(Backend backend, DType dtype, int layers, int proj, boolean batchFirst,
            int hidden, int maxBatch, int stepThreads) throws Exception {
        Random rnd = new Random(hidden * 131 + layers * 17 + proj + dtype.ordinal() * 7 + backend.ordinal());
        int inputSize = 12;
        LstmConfig config = LstmConfig.builder(inputSize, hidden).numLayers(layers).projSize(proj)
                .batchFirst(batchFirst).dtype(dtype).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), hidden, dtype, rnd);
        int hOut = config.realHiddenSize();
        int sessions = 240;
        List<Session> all = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            Session s = new Session();
            if (rnd.nextBoolean()) {
                s.h0 = TestSupport.random(new int[] {layers, hOut}, dtype, rnd, 1.0);
                s.c0 = TestSupport.random(new int[] {layers, hidden}, dtype, rnd, 1.0);
            }
            int n = 3 + rnd.nextInt(14);
            for (int f = 0; f < n; f++) {
                int steps = rnd.nextInt(4) == 0 ? 2 + rnd.nextInt(3) : 1;
                s.frames.add(steps == 1 && rnd.nextBoolean()
                        ? TestSupport.random(new int[] {inputSize}, dtype, rnd, 1.0)
                        : TestSupport.random(new int[] {steps, inputSize}, dtype, rnd, 1.0));
            }
            all.add(s);
        }
        int clients = 8;
        int perClient = 12; // 96 streams at once: batches reach maxBatch
        try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu())) {
            LstmStreamPool.Stats stats;
            try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxBatch(maxBatch).stepThreads(stepThreads)
                    .maxWait(Duration.ofMillis(3)).maxPendingPerStream(8).build()) {
                ConcurrentLinkedQueue<Session> todo = new ConcurrentLinkedQueue<>(all);
                ExecutorService exec = Executors.newFixedThreadPool(clients);
                List<Future<?>> runs = new ArrayList<>();
                for (int t = 0; t < clients; t++) {
                    long seed = rnd.nextLong();
                    runs.add(exec.submit(() -> {
                        runClient(pool, todo, perClient, new Random(seed));
                        return null;
                    }));
                }
                for (Future<?> r : runs) {
                    r.get();
                }
                exec.shutdown();
                stats = pool.stats();
            }
            double meanBatch = (double) stats.frames() / stats.steps();
            assertTrue(meanBatch > 4, "the pool batched (mean batch " + meanBatch + ")");
            assertTrue(stats.largestBatch() > 32, "batches reached the fused input projection (B >= 32): "
                    + stats.largestBatch());


            // Each session alone, frame by frame as submitted, from its initial state.
            double worst = 0;
            int mismatched = 0;
            for (Session s : all) {
                LstmState st = s.h0 == null ? lstm.newState(1)
                        : lstm.newState(s.h0.reshape(layers, 1, hOut), s.c0.reshape(layers, 1, hidden));
                for (int f = 0; f < s.frames.size(); f++) {
                    Tensor frame = s.frames.get(f);
                    int steps = frame.dim() == 1 ? 1 : frame.size(0);
                    int[] inShape = batchFirst ? new int[] {1, steps, inputSize} : new int[] {steps, 1, inputSize};
                    int[] outShape = batchFirst ? new int[] {1, steps, hOut} : new int[] {steps, 1, hOut};
                    Tensor want = Tensor.zeros(dtype, outShape);
                    lstm.forwardInto(frame.reshape(inShape), st, want);
                    Tensor got = s.outputs.get(f).get().reshape(outShape);
                    worst = Math.max(worst, got.maxAbsDiff(want));
                    mismatched += bitsDiffer(got, want) ? 1 : 0;
                }
                worst = Math.max(worst, s.last.h().reshape(layers, 1, hOut).maxAbsDiff(st.h()));
                worst = Math.max(worst, s.last.c().reshape(layers, 1, hidden).maxAbsDiff(st.c()));
                mismatched += bitsDiffer(s.last.h().reshape(layers, 1, hOut), st.h()) ? 1 : 0;
                mismatched += bitsDiffer(s.last.c().reshape(layers, 1, hidden), st.c()) ? 1 : 0;
            }
            System.out.printf("%s %s layers=%d proj=%d hidden=%d stepThreads=%d: %d steps, mean batch %.1f, largest "
                    + "%d, %d mismatches, worst diff %.3g%n", backend, dtype, layers, proj, hidden, stepThreads,
                    stats.steps(), meanBatch, stats.largestBatch(), mismatched, worst);
            // NATIVE (team scan, float64 included) and JAVA: every output element is one FMA chain or
            // one sequential sum whatever the batch, so bits must match. LIBTORCH (LibTorch's addmm/mm,
            // i.e. its BLAS, which takes other kernels at batch 1 than at 2 or 8 and more) agrees to
            // rounding only; the pool's Javadoc says so.
            boolean bitExact = backend == Backend.JAVA || backend == Backend.NATIVE;
            if (bitExact) {
                assertEquals(0, mismatched, "frames or states not bit-identical to the stream alone; worst " + worst);
            } else {
                assertTrue(worst <= (dtype == DType.FLOAT64 ? 1e-12 : 2e-6), "worst difference " + worst);
            }
        }
    }

    /**
     * Full batches: 100 streams with two frames each and a maxWait that never runs out: steps run only
     * when 80 streams (maxBatch, past the 64-row GEMM blocks) have a frame waiting, and close() drains
     * the rest; the second frames start from states that batched steps left.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("exactBackends")
    void fullBatchesEqualEachStreamAlone(Backend backend, DType dtype) {
        Random rnd = new Random(5);
        int inputSize = 16;
        int hidden = 96;
        LstmConfig config = LstmConfig.builder(inputSize, hidden).numLayers(2).dtype(dtype).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), hidden, dtype, rnd);
        int streams = 100;
        Tensor[][] frames = new Tensor[streams][2];
        for (Tensor[] f : frames) {
            f[0] = TestSupport.random(new int[] {inputSize}, dtype, rnd, 1.0);
            f[1] = TestSupport.random(new int[] {inputSize}, dtype, rnd, 1.0);
        }
        try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu())) {
            List<List<CompletableFuture<Tensor>>> got = new ArrayList<>();
            LstmStreamPool.Stats stats;
            try (LstmStreamPool pool = LstmStreamPool.builder(lstm).maxBatch(80).maxWait(Duration.ofHours(1)).build()) {
                List<LstmStream> open = new ArrayList<>();
                for (int i = 0; i < streams; i++) {
                    open.add(pool.open());
                    got.add(new ArrayList<>());
                }
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < streams; i++) {
                        got.get(i).add(open.get(i).submit(frames[i][round]));
                    }
                }
                pool.close();
                stats = pool.stats();
            }
            assertEquals(80, stats.largestBatch());
            assertEquals(2 * streams, stats.frames());
            int mismatched = 0;
            for (int i = 0; i < streams; i++) {
                LstmState st = lstm.newState(1);
                for (int round = 0; round < 2; round++) {
                    Tensor want = Tensor.zeros(dtype, 1, 1, hidden);
                    lstm.forwardInto(frames[i][round].reshape(1, 1, inputSize), st, want);
                    mismatched += bitsDiffer(got.get(i).get(round).join().reshape(1, 1, hidden), want) ? 1 : 0;
                }
            }
            assertEquals(0, mismatched, "frames not bit-identical to the stream alone");
        }
    }

    static Stream<Arguments> exactBackends() {
        return Stream.of(Arguments.of(Backend.NATIVE, DType.FLOAT32), Arguments.of(Backend.NATIVE, DType.FLOAT64),
                Arguments.of(Backend.JAVA, DType.FLOAT32), Arguments.of(Backend.JAVA, DType.FLOAT64));
    }

    private static boolean bitsDiffer(Tensor a, Tensor b) {
        return a.dtype() == DType.FLOAT32 ? !java.util.Arrays.equals(a.floatData(), b.floatData())
                : !java.util.Arrays.equals(a.doubleData(), b.doubleData());
    }

    /**
     * One client thread: keeps up to {@code perClient} sessions going at once, submitting their frames
     * in random order with random pauses, at most 6 steps outstanding per stream.
     */
    private static void runClient(LstmStreamPool pool, ConcurrentLinkedQueue<Session> todo, int perClient, Random rnd) {
        Session[] active = new Session[perClient];
        LstmStream[] streams = new LstmStream[perClient];
        int[] next = new int[perClient];
        int[] waited = new int[perClient];
        AtomicInteger live = new AtomicInteger();
        for (int i = 0; i < perClient; i++) {
            if (start(pool, todo, active, streams, next, waited, i)) {
                live.incrementAndGet();
            }
        }
        while (live.get() > 0) {
            int i = rnd.nextInt(perClient);
            Session s = active[i];
            if (s == null) {
                continue;
            }
            if (next[i] < s.frames.size()) {
                Tensor frame = s.frames.get(next[i]);
                int outstanding = 0;
                for (int k = waited[i]; k < next[i]; k++) {
                    Tensor f = s.frames.get(k);
                    outstanding += f.dim() == 1 ? 1 : f.size(0);
                }
                int steps = frame.dim() == 1 ? 1 : frame.size(0);
                if (outstanding + steps <= 6) {
                    s.outputs.add(streams[i].submit(frame));
                    next[i]++;
                } else {
                    s.outputs.get(waited[i]++).join();
                }
            } else {
                while (waited[i] < next[i]) {
                    s.outputs.get(waited[i]++).join();
                }
                s.last = streams[i].state();
                streams[i].close();
                if (!start(pool, todo, active, streams, next, waited, i)) {
                    live.decrementAndGet();
                }
            }
            if (rnd.nextInt(4) == 0) {
                LockSupport.parkNanos(rnd.nextInt(300_000));
            }
        }
    }

    private static boolean start(LstmStreamPool pool, ConcurrentLinkedQueue<Session> todo, Session[] active,
            LstmStream[] streams, int[] next, int[] waited, int i) {
        Session s = todo.poll();
        active[i] = s;
        next[i] = 0;
        waited[i] = 0;
        if (s == null) {
            streams[i] = null;
            return false;
        }
        streams[i] = pool.open(s.h0, s.c0);
        return true;
    }
}
