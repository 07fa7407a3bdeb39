package dev.lstm4j.tools.bench;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmState;
import dev.lstm4j.LstmStream;
import dev.lstm4j.LstmStreamPool;
import dev.lstm4j.ModelOptions;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * {@code lstm4j bench --streams}: N live streams on one model, each bringing frames at a fixed rate from
 * many client threads, served two ways in the same run: by an {@link LstmStreamPool} (mode {@code pool})
 * and by one batch-1 {@link Lstm#forwardInto} per frame on the client thread (mode {@code per_stream}).
 *
 * <p>Per hidden size and mode it first measures the saturated rate (closed loop: every stream always has
 * a frame waiting), then offers open-loop loads at fractions of it (frames due at fixed times, latency
 * measured from the due time, so a client that falls behind shows as latency, not as a lower rate) and
 * reports the highest load it sustained: every frame due in the window completed, none rejected, p99
 * latency within the limit. Each mode is warmed up first until the JIT compilers are idle. Latencies go to HdrHistogram {@link Recorder}s. Also printed: the frame rate
 * the float32 FMA peak allows, {@code 2 * (I + H) * 4H} flops per frame and layer, and the saturated
 * pool's share of it.
 */
public final class StreamsBench {
    private StreamsBench() {
    }

    /** The options after {@code bench --streams}, parsed by picocli. */
    @Command(name = "lstm4j bench --streams")
    static final class Options {
        @Option(names = "--hidden", split = ",", paramLabel = "H,...", description = "hidden sizes (default 256,1024)")
        List<Integer> hidden = List.of(256, 1024);
        @Option(names = "--input", description = "input_size (default 64)")
        int input = 64;
        @Option(names = "--layers", description = "num_layers (default 1)")
        int layers = 1;
        @Option(names = "--stream-count", description = "live streams (default 512)")
        int streams = 512;
        @Option(names = "--clients", description = "client threads submitting frames (default 8)")
        int clients = 8;
        @Option(names = "--backend", paramLabel = "native|java|libtorch", description = "default native")
        String backendName = "native";
        Backend backend = Backend.NATIVE;
        @Option(names = "--threads", description = "the model's threads (default: ModelOptions' default, one per "
                + "processor); 1 runs each step on the pool's thread alone, leaving the other cores to the clients")
        int threads;
        @Option(names = "--step-threads", description = "the pool's steps at once, each on its own thread (default 1)")
        int stepThreads = 1;
        @Option(names = "--max-batch", description = "the pool's largest batched step (default 64)")
        int maxBatch = 64;
        @Option(names = "--max-wait-us", description = "the pool's longest wait for more frames (default 1000)")
        long maxWaitUs = 1000;
        Duration maxWait = Duration.ofMillis(1);
        @Option(names = "--seconds", description = "seconds per offered load (default 3)")
        double seconds = 3.0;
        double warmupSeconds = 1.0;
        @Option(names = "--p99-limit-ms", description = "p99 latency a sustained load must keep (default 10)")
        double p99LimitMs = 10.0;
        @Option(names = "--quick", description = "short windows")
        boolean quick;
        @Option(names = "--csv", paramLabel = "FILE")
        Path csv;
        @Option(names = "--streams", hidden = true, description = "the mode flag itself, when the whole line is passed")
        boolean modeFlag;
    }

    private static final String USAGE = "usage: lstm4j bench --streams [--hidden 256,1024] [--input 64] [--layers 1] "
            + "[--stream-count 512] [--clients 8] [--backend native|java|libtorch] [--threads N] [--step-threads 1] [--max-batch 64] "
            + "[--max-wait-us 1000] [--seconds 3] [--p99-limit-ms 10] [--quick] [--csv FILE]";

    /**
     * Runs the bench; {@code args} are the options after {@code --streams}.
     *
     * @return 0 on success, 2 for bad usage (a line on {@code out} says why)
     */
    public static int run(String[] args, PrintStream out) {
        PrintWriter w = new PrintWriter(out, true);
        int code = run(args, w);
        w.flush();
        return code;
    }

    /**
     * Runs the bench, printing to {@code out}; {@code args} are the options after {@code --streams}.
     *
     * @return 0 on success, 2 for bad usage (a line on {@code out} says why)
     */
    public static int run(String[] args, PrintWriter out) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            out.println("lstm4j bench --streams: " + e.getMessage());
            out.println(USAGE);
            return 2;
        }
        int threads = Runtime.getRuntime().availableProcessors();
        double peak = Double.NaN;
        try {
            peak = Backend.NATIVE.fmaPeakGflops(threads);
        } catch (IllegalStateException e) {
            // no native library here: no peak-based limit
        }
        out.printf(Locale.ROOT, "lstm4j bench --streams: %s backend, float32, input_size=%d, num_layers=%d, %d streams, "
                + "%d client threads, %d processors, JVM %s%n", o.backend, o.input, o.layers, o.streams, o.clients, threads,
                Runtime.version());
        out.printf(Locale.ROOT, "model threads: %s%n", o.threads > 0 ? Integer.toString(o.threads)
                : ModelOptions.defaults().threads() + " (default)");
        out.printf(Locale.ROOT, "pool: stepThreads=%d maxBatch=%d maxWait=%d us; sustained = every frame due in %.1f s completed, "
                + "none rejected, p99 <= %.1f ms; latency from a frame's due time to its result%n", o.stepThreads, o.maxBatch,
                o.maxWait.toNanos() / 1000, o.seconds, o.p99LimitMs);
        if (!Double.isNaN(peak)) {
            out.printf(Locale.ROOT, "float32 FMA peak: %.1f GFLOP/s (%d threads, measured now)%n", peak, threads);
        }
        List<String> csvRows = new ArrayList<>();
        for (int h : o.hidden) {
            double flopsPerFrame = 2.0 * (o.input + h) * 4.0 * h + (o.layers - 1) * 2.0 * (2.0 * h) * 4.0 * h;
            double limit = peak * 1e9 / flopsPerFrame;
            out.printf(Locale.ROOT, "%nhidden=%d: %.2f MFLOP per frame; the FMA peak allows %s frames/s%n", h,
                    flopsPerFrame / 1e6, Double.isNaN(limit) ? "?" : String.format(Locale.ROOT, "%.0f", limit));
            LstmConfig config = LstmConfig.builder(o.input, h).numLayers(o.layers).build();
            StateDict weights = randomWeights(config, new Random(42));
            ModelOptions options = o.threads > 0 ? ModelOptions.builder().threads(o.threads).build()
                    : ModelOptions.defaults();
            try (Lstm lstm = Lstm.create(config, weights, o.backend, Device.cpu(), options)) {
                for (String mode : new String[] {"pool", "per_stream"}) {
                    Result r = measureMode(lstm, mode, o, out);
                    if (mode.equals("pool") && !Double.isNaN(limit)) {
                        out.printf(Locale.ROOT, "  pool saturated: %.0f frames/s = %.0f %% of the FMA-peak limit%n",
                                r.saturated, 100 * r.saturated / limit);
                    }
                    out.printf(Locale.ROOT, "  %-10s highest sustained: %10.0f frames/s  p50 %7.3f ms  p99 %7.3f ms%s%n",
                            mode, r.rate, r.p50Ms, r.p99Ms, r.rate == 0 ? "  (no load sustained)" : "");
                    csvRows.add(String.format(Locale.ROOT, "%d,%s,%d,%.1f,%.4f,%.4f", h, mode, o.streams, r.rate,
                            r.p50Ms, r.p99Ms));
                }
            }
        }
        if (o.csv != null) {
            StringBuilder sb = new StringBuilder("hidden,mode,streams,frames_per_s,p50_ms,p99_ms\n");
            for (String row : csvRows) {
                sb.append(row).append('\n');
            }
            try {
                Files.writeString(o.csv, sb.toString(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + o.csv + ": " + e.getMessage(), e);
            }
            out.println("\nwrote " + o.csv);
        }
        return 0;
    }

    private static Options parse(String[] args) {
        Options o = new Options();
        try {
            new CommandLine(o).parseArgs(args);
        } catch (ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        for (int h : o.hidden) {
            positive("--hidden", h);
        }
        positive("--input", o.input);
        positive("--layers", o.layers);
        positive("--stream-count", o.streams);
        positive("--clients", o.clients);
        positive("--max-batch", o.maxBatch);
        positive("--step-threads", o.stepThreads);
        if (o.threads < 0) {
            throw new IllegalArgumentException("--threads: expected a positive number, got " + o.threads);
        }
        if (o.maxWaitUs < 0) {
            throw new IllegalArgumentException("--max-wait-us: expected a number >= 0, got " + o.maxWaitUs);
        }
        if (!(o.seconds > 0) || !(o.p99LimitMs > 0)) {
            throw new IllegalArgumentException("--seconds and --p99-limit-ms must be positive");
        }
        o.backend = Backend.parse(o.backendName);
        o.maxWait = Duration.ofNanos(1000L * o.maxWaitUs);
        if (o.quick) {
            o.seconds = 0.5;
            o.warmupSeconds = 0.3;
        }
        o.clients = Math.min(o.clients, o.streams);
        return o;
    }

    private static void positive(String name, int n) {
        if (n <= 0) {
            throw new IllegalArgumentException(name + ": expected a positive number, got " + n);
        }
    }

    private static StateDict randomWeights(LstmConfig config, Random rnd) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        double k = 1.0 / Math.sqrt(config.hiddenSize());
        config.parameterShapes().forEach((name, shape) -> m.put(name, randomTensor(shape, rnd, k)));
        return StateDict.of(m);
    }

    private static Tensor randomTensor(int[] shape, Random rnd, double scale) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        float[] d = t.floatData();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return t;
    }

    /** The outcome of one mode: saturated rate, then the highest sustained open-loop load. */
    private static final class Result {
        double saturated;
        double offered; // the highest sustained load offered
        double rate; // and the rate achieved at it
        double p50Ms;
        double p99Ms;
    }

    /** One open-loop point. */
    private static final class Point {
        double offered;
        double achieved;
        long rejected;
        long late; // due in the window, not completed by its end plus the grace
        double p50Ms;
        double p99Ms;
    }

    private static final long MAX_LATENCY_NANOS = 3_600_000_000_000L;
    /** Loads tried first, as fractions of the saturated rate, lowest first. */
    private static final double[] GRID = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};
    /** Halvings of the interval between the highest sustained and the first failed load of the grid. */
    private static final int REFINEMENTS = 3;

    /**
     * The saturated rate, then the highest sustained open-loop load: the grid up to its first failed load,
     * then bisection between that and the highest sustained one. The grid alone once reported 16k frames/s
     * for a pool that failed at 49k (0.3 of its 163k saturated rate) but may have kept up with 45k: its
     * steps were a tenth of saturation wide at the bottom and it stopped at the first failure.
     */
    private static Result measureMode(Lstm lstm, String mode, Options o, PrintWriter out) {
        Result r = new Result();
        boolean pool = mode.equals("pool");
        Tensor[][] outputs = pool ? outputs(o.streams, lstm.config().realHiddenSize()) : null;
        warmUp(lstm, outputs, o);
        r.saturated = closedLoop(lstm, outputs, o, o.seconds);
        out.printf(Locale.ROOT, "  %-10s saturated (closed loop): %.0f frames/s%n", mode, r.saturated);
        searchHighestSustained(r.saturated, rate -> tryLoad(lstm, mode, outputs, o, out, rate, r));
        return r;
    }

    /**
     * The highest load that {@code sustained} accepts, as the search finds it: the grid (fractions of
     * {@code saturated}) up to its first failed load, then {@link #REFINEMENTS} bisections between the
     * highest accepted load (or zero) and the lowest failed one; zero if it accepts none. Package-private
     * for the test.
     */
    static double searchHighestSustained(double saturated, java.util.function.DoublePredicate sustained) {
        double ok = 0;
        double failed = Double.NaN;
        for (double f : GRID) {
            if (!sustained.test(f * saturated)) {
                failed = f * saturated;
                break;
            }
            ok = f * saturated;
        }
        for (int i = 0; i < REFINEMENTS && !Double.isNaN(failed); i++) {
            double mid = (ok + failed) / 2;
            if (sustained.test(mid)) {
                ok = mid;
            } else {
                failed = mid;
            }
        }
        return ok;
    }

    /** Offers one open-loop load; when sustained and higher than r's, records it in r. */
    private static boolean tryLoad(Lstm lstm, String mode, Tensor[][] outputs, Options o, PrintWriter out,
            double rate, Result r) {
        Point p = openLoop(lstm, outputs, o, rate);
        boolean ok = p.rejected == 0 && p.late == 0 && p.p99Ms <= o.p99LimitMs;
        out.printf(Locale.ROOT, "  %-10s offered %9.0f frames/s: achieved %9.0f, p50 %7.3f ms, p99 %7.3f ms, "
                + "rejected %d, late %d%s%n", mode, p.offered, p.achieved, p.p50Ms, p.p99Ms, p.rejected, p.late,
                ok ? "" : "  (not sustained)");
        if (ok && p.offered > r.offered) {
            r.offered = p.offered;
            r.rate = p.achieved;
            r.p50Ms = p.p50Ms;
            r.p99Ms = p.p99Ms;
        }
        return ok;
    }

    /**
     * Closed-loop rounds until one leaves the JIT compilers idle (at most 10 s more after the first):
     * the pool's per-frame Java path ran several times slower before C2 had compiled it (measured
     * 7.4k frames/s in the first second against 21.6k in the fourth, H=256).
     */
    private static void warmUp(Lstm lstm, Tensor[][] outputs, Options o) {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        closedLoop(lstm, outputs, o, o.warmupSeconds);
        long end = System.nanoTime() + 10_000_000_000L;
        while (timed && System.nanoTime() < end) {
            long before = jit.getTotalCompilationTime();
            closedLoop(lstm, outputs, o, Math.min(0.5, o.warmupSeconds));
            if (jit.getTotalCompilationTime() == before) {
                break;
            }
        }
    }

    /**
     * The outputs the pool's clients keep, per stream: the stream's n-th accepted frame writes into
     * {@code [stream][n % PENDING_PER_STREAM]}, as per-stream stepping writes into one output
     * ({@code forwardInto}), so that neither mode allocates a result per frame. The pool refuses a stream's
     * next frame while PENDING_PER_STREAM are pending, completes a stream's frames in order, and writes a
     * frame's output before it stops counting it. Made once per hidden size: the windows reuse them.
     */
    private static Tensor[][] outputs(int streams, int h) {
        Tensor[][] outputs = new Tensor[streams][PENDING_PER_STREAM];
        for (Tensor[] ring : outputs) {
            for (int q = 0; q < ring.length; q++) {
                ring[q] = Tensor.zeros(DType.FLOAT32, h);
            }
        }
        return outputs;
    }

    /**
     * Frames per second with every stream always busy: pool streams (outputs non-null) resubmit on
     * completion; per-stream clients loop.
     */
    private static double closedLoop(Lstm lstm, Tensor[][] outputs, Options o, double seconds) {
        boolean pool = outputs != null;
        int h = lstm.config().realHiddenSize();
        Tensor[] frames = frames(o, lstm.config().inputSize());
        AtomicLong done = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        long start;
        long end;
        if (pool) {
            try (LstmStreamPool p = poolOf(lstm, o)) {
                CountDownLatch stopped = new CountDownLatch(o.streams);
                List<LstmStream> streams = new ArrayList<>();
                for (int i = 0; i < o.streams; i++) {
                    streams.add(p.open());
                }
                start = System.nanoTime();
                for (int i = 0; i < o.streams; i++) {
                    resubmit(streams.get(i), frames[i], outputs[i][0], done, running, stopped);
                }
                sleepSeconds(seconds);
                end = System.nanoTime();
                running.set(false);
                long counted = done.get();
                awaitQuietly(stopped);
                return counted * 1e9 / (end - start);
            }
        }
        Thread[] clients = new Thread[o.clients];
        for (int c = 0; c < o.clients; c++) {
            int first = c;
            clients[c] = new Thread(() -> {
                List<LstmState> states = new ArrayList<>();
                List<Tensor> inputs = new ArrayList<>();
                for (int i = first; i < o.streams; i += o.clients) {
                    states.add(lstm.newState(1));
                    inputs.add(frames[i].reshape(1, 1, frames[i].size(0)));
                }
                Tensor output = Tensor.zeros(DType.FLOAT32, 1, 1, h);
                while (running.get()) {
                    for (int k = 0; k < states.size() && running.get(); k++) {
                        lstm.forwardInto(inputs.get(k), states.get(k), output);
                        done.incrementAndGet();
                    }
                }
            }, "bench-client-" + c);
        }
        start = System.nanoTime();
        for (Thread t : clients) {
            t.start();
        }
        sleepSeconds(seconds);
        end = System.nanoTime();
        long counted = done.get();
        running.set(false);
        for (Thread t : clients) {
            joinQuietly(t);
        }
        return counted * 1e9 / (end - start);
    }

    /** Submits the stream's frame into its one output (a stream has one frame in flight), again on completion. */
    private static void resubmit(LstmStream s, Tensor frame, Tensor output, AtomicLong done, AtomicBoolean running,
            CountDownLatch stopped) {
        s.submit(frame, output).whenComplete((out, e) -> {
            done.incrementAndGet();
            if (e == null && running.get()) {
                resubmit(s, frame, output, done, running, stopped);
            } else {
                stopped.countDown();
            }
        });
    }

    /**
     * Offers {@code rate} frames/s in all: stream i's k-th frame is due at {@code start + (i + k * N) / rate};
     * each client thread sends its streams' frames at their due times (sleeping until then, or at once when
     * behind). Latency is measured from the due time; frames due in the last {@code seconds} count.
     */
    private static Point openLoop(Lstm lstm, Tensor[][] outputs, Options o, double rate) {
        boolean pool = outputs != null;
        int h = lstm.config().realHiddenSize();
        Tensor[] frames = frames(o, lstm.config().inputSize());
        double periodNanos = o.streams * 1e9 / rate;
        // A fixed range (1 us to an hour): an auto-resizing one resized while the pool's thread recorded.
        Recorder recorder = new Recorder(1_000L, MAX_LATENCY_NANOS, 3);
        AtomicLong completed = new AtomicLong();
        AtomicLong rejected = new AtomicLong();
        long t0 = System.nanoTime() + 20_000_000L;
        long measureFrom = t0 + (long) (o.warmupSeconds * 1e9);
        long measureTo = measureFrom + (long) (o.seconds * 1e9);
        LstmStreamPool p = pool ? poolOf(lstm, o) : null;
        try {
            Thread[] clients = new Thread[o.clients];
            for (int c = 0; c < o.clients; c++) {
                int first = c;
                clients[c] = new Thread(() -> {
                    List<Integer> ids = new ArrayList<>();
                    List<LstmStream> streams = new ArrayList<>();
                    List<LstmState> states = new ArrayList<>();
                    List<Tensor> inputs = new ArrayList<>();
                    for (int i = first; i < o.streams; i += o.clients) {
                        ids.add(i);
                        if (p != null) {
                            streams.add(p.open());
                        } else {
                            states.add(lstm.newState(1));
                        }
                        inputs.add(pool ? frames[i] : frames[i].reshape(1, 1, frames[i].size(0)));
                    }
                    Tensor output = Tensor.zeros(DType.FLOAT32, 1, 1, h);
                    int[] accepted = new int[ids.size()];
                    for (long k = 0;; k++) {
                        for (int j = 0; j < ids.size(); j++) {
                            long due = t0 + (long) ((ids.get(j) + (double) k * o.streams) * periodNanos / o.streams);
                            if (due >= measureTo) {
                                return;
                            }
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                LockSupport.parkNanos(wait);
                            }
                            boolean counted = due >= measureFrom;
                            if (p != null) {
                                try {
                                    // The stream's n-th accepted frame: the pool holds at most the last
                                    // PENDING_PER_STREAM - 1 before it, so frame n - PENDING_PER_STREAM is done.
                                    Tensor out = outputs[ids.get(j)][accepted[j] % PENDING_PER_STREAM];
                                    streams.get(j).submit(inputs.get(j), out).whenComplete((r, e) -> {
                                        if (counted && e == null) {
                                            recorder.recordValue(Math.min(MAX_LATENCY_NANOS, System.nanoTime() - due));
                                            completed.incrementAndGet();
                                        }
                                    });
                                    accepted[j]++;
                                } catch (RejectedExecutionException e) {
                                    if (counted) {
                                        rejected.incrementAndGet();
                                    }
                                }
                            } else {
                                lstm.forwardInto(inputs.get(j), states.get(j), output);
                                if (counted) {
                                    recorder.recordValue(Math.min(MAX_LATENCY_NANOS, System.nanoTime() - due));
                                    completed.incrementAndGet();
                                }
                            }
                        }
                    }
                }, "bench-client-" + c);
            }
            for (Thread t : clients) {
                t.start();
            }
            for (Thread t : clients) {
                joinQuietly(t);
            }
            // Frames still queued get a grace of twice the latency limit, then count as late.
            long graceEnd = System.nanoTime() + (long) (2 * o.p99LimitMs * 1e6);
            long expected = countDue(o, periodNanos, t0, measureFrom, measureTo) - rejected.get();
            while (completed.get() < expected && System.nanoTime() < graceEnd) {
                LockSupport.parkNanos(1_000_000L);
            }
            Histogram hist = recorder.getIntervalHistogram();
            Point pt = new Point();
            pt.offered = rate;
            pt.rejected = rejected.get();
            pt.late = Math.max(0, expected - completed.get());
            pt.achieved = completed.get() / o.seconds;
            pt.p50Ms = hist.getTotalCount() == 0 ? Double.NaN : hist.getValueAtPercentile(50) / 1e6;
            pt.p99Ms = hist.getTotalCount() == 0 ? Double.NaN : hist.getValueAtPercentile(99) / 1e6;
            return pt;
        } finally {
            if (p != null) {
                p.closeNow();
            }
        }
    }

    /** How many frames are due in [from, to) under the open-loop schedule. */
    private static long countDue(Options o, double periodNanos, long t0, long from, long to) {
        long n = 0;
        for (int i = 0; i < o.streams; i++) {
            double phase = i * periodNanos / o.streams;
            // due_k = t0 + phase + k * period
            long kFrom = (long) Math.ceil((from - t0 - phase) / periodNanos);
            long kTo = (long) Math.ceil((to - t0 - phase) / periodNanos);
            n += Math.max(0, kTo - Math.max(0, kFrom));
        }
        return n;
    }

    /** The pool's maxPendingPerStream, and the outputs each stream's client keeps for its frames. */
    private static final int PENDING_PER_STREAM = 16;

    private static LstmStreamPool poolOf(Lstm lstm, Options o) {
        return LstmStreamPool.builder(lstm).stepThreads(o.stepThreads).maxBatch(o.maxBatch).maxWait(o.maxWait)
                .maxPendingPerStream(PENDING_PER_STREAM)
                .maxPendingTotal(Math.max(1 << 16, o.streams * PENDING_PER_STREAM)).maxStreams(o.streams).build();
    }

    private static Tensor[] frames(Options o, int inputSize) {
        Random rnd = new Random(7);
        Tensor[] f = new Tensor[o.streams];
        for (int i = 0; i < o.streams; i++) {
            f[i] = randomTensor(new int[] {inputSize}, rnd, 1.0);
        }
        return f;
    }

    private static void sleepSeconds(double s) {
        long end = System.nanoTime() + (long) (s * 1e9);
        for (long left; (left = end - System.nanoTime()) > 0;) {
            LockSupport.parkNanos(left);
        }
    }

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs the bench from a command line: {@code java ... StreamsBench [options]}. */
    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }
}
