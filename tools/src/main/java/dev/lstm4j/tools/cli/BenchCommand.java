package dev.lstm4j.tools.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.tools.bench.BenchPlot;
import dev.lstm4j.tools.bench.BenchmarkRow;
import dev.lstm4j.tools.bench.BusyCore;
import dev.lstm4j.tools.bench.CpuSteal;
import dev.lstm4j.tools.bench.StreamsBench;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code lstm4j bench [--quick] [--rows NAME,...] [--backends B,...] [--device D] [--peers] [--busy-core]
 * [--csv FILE] [--plot FILE]}: times float32 forward passes of the {@link BenchmarkRow} grid on every
 * selected, available backend in one process (and with {@code --peers} on DJL and ONNX Runtime, each in its
 * own JVM, in the same interleaved rounds), and prints per row and backend the median time, its share of the
 * FMA peak, the ratio to LIBTORCH's time and the largest difference to LIBTORCH's result. Exit 0 on success,
 * 1 if a backend disagrees with LIBTORCH beyond {@value #TOLERANCE}, 2 on bad usage, an unwritable CSV or
 * plot file or no available backend.
 */
@Command(name = "bench", sortOptions = false, description = {"Time float32 forward passes on every available backend.",
    "Rows below, cpu by default; per row and backend: median ms, GFLOP/s and share of the FMA peak, ratio and max "
        + "abs diff to LIBTORCH. Exit 1 if a backend disagrees with LIBTORCH beyond 1e-4."})
final class BenchCommand implements Callable<Integer> {
    /** Largest float32 difference to LIBTORCH accepted; far above rounding, far below a wrong result. */
    static final double TOLERANCE = 1e-4;
    /** Untimed pause before each block of calls; see {@link #settle()}. */
    static final long SETTLE_MILLIS = 30;
    static final String CSV_HEADER = "config,backend,device,median_ms,gflops,fma_peak_gflops,ratio_vs_libtorch,"
            + "max_abs_diff_vs_libtorch,busy_core,steal_pct,note";

    /**
     * How long one row runs, per backend: warm-up until both {@code warmupCalls} and {@code warmupNanos}
     * are reached, and then until a whole round of calls leaves the JIT compilers idle (for at most
     * {@code jitQuietNanos} more); then timed calls, in blocks of about {@code blockNanos} per backend
     * and round, until both {@code minCalls} and {@code minNanos} are reached, or {@code maxCalls}.
     */
    record Budget(int warmupCalls, long warmupNanos, int minCalls, long minNanos, int maxCalls, long blockNanos,
            long jitQuietNanos) {
        String describe() {
            return String.format(Locale.ROOT, "warm-up >= %d call(s)%s%s, then the median of >= %d calls and >= %s s "
                    + "(at most %d) in interleaved blocks of ~%s s", warmupCalls,
                    warmupNanos > 0 ? " and >= " + seconds(warmupNanos) + " s" : "",
                    jitQuietNanos > 0 ? " and until a round compiles nothing (<= " + seconds(jitQuietNanos) + " s more)"
                            : "", minCalls, seconds(minNanos), maxCalls, seconds(blockNanos));
        }

        private static String seconds(long nanos) {
            return String.format(Locale.ROOT, "%.2g", nanos / 1e9);
        }
    }

    // A C2 compilation still running when the timing starts takes one of a small machine's cores for
    // seconds: on 2 cores, B=64 rows after the B=1 rows measured 108-121 ms on NATIVE instead of 88-95.
    static final Budget FULL = new Budget(3, 500_000_000L, 5, 1_000_000_000L, 2000, 20_000_000L, 10_000_000_000L);
    static final Budget QUICK = new Budget(1, 0L, 3, 20_000_000L, 40, 2_000_000L, 0L);

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "a much smaller time budget")
    boolean quick;

    @Option(names = "--rows", paramLabel = "NAME,...", description = "these rows only (default: all)")
    String rowNames;

    @Option(names = "--backends", paramLabel = "B,...", description = "these backends only (default: all)")
    String backendNames;

    @Option(names = "--device", paramLabel = "D", converter = Converters.DeviceConverter.class,
            description = "device (default: cpu)")
    Device device = Device.cpu();

    @Option(names = "--peers", description = "also DJL 0.35.1 (peers/djl) and ONNX Runtime 1.29.0 (peers/ort), "
            + "each in its own JVM")
    boolean peers;

    @Option(names = "--busy-core", description = "keep one more process spinning on a core while timing (a noisy "
            + "neighbour)")
    boolean busyCore;

    @Option(names = "--plot", paramLabel = "FILE", description = "also draw the medians per row, backend and peer "
            + "(log scale) and their ratio to LIBTORCH: SVG, or PNG if FILE ends in .png")
    Path plot;

    @Option(names = "--csv", paramLabel = "FILE",
            description = "also write config,backend,device,median_ms,gflops,fma_peak_gflops,ratio_vs_libtorch,"
                    + "max_abs_diff_vs_libtorch,busy_core,steal_pct,note")
    Path csv;

    @Option(names = "--streams", description = "instead of the grid: the stream pool against per-stream stepping "
            + "(N live streams, frames at a given rate from many client threads; its own options: --hidden, --input, "
            + "--layers, --stream-count, --clients, --backend, --threads, --step-threads, --max-batch, --max-wait-us, --seconds, --p99-limit-ms; "
            + "--quick and --csv apply)")
    boolean streams;

    /** The stream bench's own options, passed on to it (refused without --streams). */
    @Unmatched
    List<String> streamsOptions = new ArrayList<>();

    private PrintWriter out;
    private PrintWriter err;

    /** The rows, for the help text. */
    static String[] rowsFooter() {
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add("rows:");
        BenchmarkRow.all().forEach(r -> lines.add("  " + r));
        return lines.toArray(new String[0]);
    }

    /** The timing of one backend on one row, and its first result (compared across backends). */
    private record Measurement(double medianMs, LstmOutput result) {
    }

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        if (streams) {
            List<String> args = new ArrayList<>(streamsOptions);
            if (quick) {
                args.add("--quick");
            }
            if (csv != null) {
                args.add("--csv");
                args.add(csv.toString());
            }
            int code = StreamsBench.run(args.toArray(new String[0]), out);
            out.flush();
            return code;
        }
        if (!streamsOptions.isEmpty()) {
            throw new Main.UsageException("unknown option(s) " + String.join(" ", streamsOptions)
                    + " (the stream bench's options need --streams)");
        }
        Budget budget = quick ? QUICK : FULL;
        List<BenchmarkRow> rows = rowNames == null ? BenchmarkRow.all() : parseRows(rowNames);
        Set<Backend> backends = backendNames == null ? EnumSet.allOf(Backend.class) : parseBackends(backendNames);

        if (plot != null && !plot.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(svg|png)")) {
            throw new Main.UsageException("--plot: the file name must end in .svg or .png, got " + plot);
        }
        Path plotDir = plot == null ? null : plot.toAbsolutePath().getParent();
        if (plotDir != null && !Files.isDirectory(plotDir)) {
            throw new Main.UsageException("--plot: no such folder: " + plotDir);
        }
        // Open the CSV first so that a bad path fails before minutes of timing, not after.
        BufferedWriter csvOut = null;
        if (csv != null) {
            try {
                csvOut = Files.newBufferedWriter(csv);
                csvOut.write(CSV_HEADER);
                csvOut.newLine();
            } catch (IOException e) {
                err.println("lstm4j bench: cannot write CSV file " + csv + ": " + e);
                return 2;
            }
        }
        try {
            return runGrid(rows, backends, device, budget, csvOut, peers);
        } catch (UncheckedIOException e) {
            err.println("lstm4j bench: cannot write CSV file " + csv + ": " + e.getCause());
            return 2;
        } finally {
            if (csvOut != null) {
                try {
                    csvOut.close();
                } catch (IOException e) {
                    err.println("lstm4j bench: cannot write CSV file " + csv + ": " + e);
                }
            }
        }
    }

    private int runGrid(List<BenchmarkRow> rows, Set<Backend> backends, Device device, Budget budget,
            BufferedWriter csvOut, boolean peers) {
        Path peerDir = null;
        if (peers) {
            try {
                peerDir = Files.createTempDirectory("lstm4j-peers");
            } catch (IOException e) {
                err.println("lstm4j bench: cannot create a folder for the peers: " + e);
                return 2;
            }
        }
        // Ctrl-C ends a long run: the row files (~150 MB) go with it. The peers and the busy-core process end
        // by themselves when their pipe from this JVM closes.
        Path dirToDelete = peerDir;
        Thread cleanup = dirToDelete == null ? null : new Thread(() -> deleteTree(dirToDelete), "lstm4j-peers-cleanup");
        if (cleanup != null) {
            Runtime.getRuntime().addShutdownHook(cleanup);
        }
        BusyCore busy = null;
        try {
            if (busyCore) {
                try {
                    busy = BusyCore.start();
                } catch (IOException e) {
                    err.println("lstm4j bench: cannot start the busy-core process: " + e);
                    return 2;
                }
            }
            return runGrid(rows, backends, device, budget, csvOut, peerDir, busy);
        } finally {
            if (busy != null) {
                busy.close();
            }
            if (peerDir != null) {
                deleteTree(peerDir);
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException e) {
                    // the JVM is shutting down: the hook runs anyway
                }
            }
        }
    }

    private int runGrid(List<BenchmarkRow> rows, Set<Backend> backends, Device device, Budget budget,
            BufferedWriter csvOut, Path peerDir, BusyCore busy) {
        Map<String, Map<String, Double>> medians = new LinkedHashMap<>(); // row -> backend or peer -> ms
        Map<String, Map<String, Double>> quietMs = new LinkedHashMap<>(); // the same with the busy core paused
        Map<String, Double> stealPercent = new LinkedHashMap<>(); // per row, over its timed rounds
        out.printf("lstm4j bench: JVM %s (%s), %d available processors; ratios are time / LIBTORCH time in this "
                + "run: < 1 is faster%n", Runtime.version(), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors());
        out.printf("float32, %s, forward only, batch_first=true, seed %d; per config and backend: %s%n", device,
                BenchmarkRow.SEED, budget.describe());
        if (!device.isCpu()) {
            out.printf("on %s every call copies its input from and its outputs to Java arrays, as the API does%n",
                    device);
        }
        // LibTorch's OpenMP pool and OpenBLAS's threads each default to one thread per core; together they
        // can oversubscribe a small machine, so the timings mean little without these settings.
        out.printf("threads: OMP_NUM_THREADS=%s, OPENBLAS_NUM_THREADS=%s, OMP_WAIT_POLICY=%s%n",
                envOrUnset("OMP_NUM_THREADS"), envOrUnset("OPENBLAS_NUM_THREADS"), envOrUnset("OMP_WAIT_POLICY"));
        out.printf("busy core: %s%n%n", busy == null ? "off" : "on, " + busy.describe());
        int threads = Runtime.getRuntime().availableProcessors();
        Peak peak = new Peak(device.isCpu() ? threads : 0);
        if (peak.probe()) {
            out.printf(Locale.ROOT, "float32 FMA peak of this machine: %.1f GFLOP/s (%d threads, measured now and "
                    + "again after each row, the best kept); gflops = GEMM flops / median time%n%n", peak.gflops,
                    threads);
        }
        List<PeerProcess> peerProcesses = new ArrayList<>();
        List<PeerRow> peerRows = new ArrayList<>();
        if (peerDir != null) {
            out.printf("peers: row files in %s, deleted at the end%n%n", peerDir);
            for (PeerSpec spec : PEERS) {
                peerProcesses.add(PeerProcess.start(spec, peerDir));
            }
        }
        String format = "%-28s %-9s %-6s %12s %9s %7s %18s %25s%n";
        out.printf(format, "config", "backend", "device", "median_ms", "gflops", "%peak", "ratio_vs_libtorch",
                "max_abs_diff_vs_libtorch");
        Map<Backend, String> unavailable = new LinkedHashMap<>();
        List<String> mismatches = new ArrayList<>();
        int measured = 0;
        try {
            for (BenchmarkRow row : rows) {
                Random rnd = new Random(BenchmarkRow.SEED);
                StateDict weights = row.weights(rnd);
                Tensor input = row.input(rnd);
                // The backends of a row (and the peers) are timed in interleaved rounds (see measure), before
                // any line is printed: ratios need LIBTORCH's time.
                Map<Backend, Lstm> models = new EnumMap<>(Backend.class);
                Map<Backend, Measurement> results = new EnumMap<>(Backend.class);
                Map<PeerProcess, String> peerWhy = new LinkedHashMap<>();
                Map<PeerProcess, Double> peerMs = new LinkedHashMap<>();
                try {
                    List<Runner> runners = new ArrayList<>();
                    for (Backend b : backends) {
                        if (unavailable.containsKey(b)) {
                            continue;
                        }
                        try {
                            models.put(b, Lstm.create(row.config(), weights, b, device));
                            runners.add(new LocalRunner(models.get(b), input));
                        } catch (IllegalStateException | IllegalArgumentException e) {
                            unavailable.put(b, e.getMessage()); // not built here, or not for this device
                        }
                    }
                    if (!peerProcesses.isEmpty()) {
                        writePeerRow(peerDir, row, weights, input); // once; every peer reads the same files
                    }
                    List<PeerProcess> timedPeers = new ArrayList<>();
                    for (PeerProcess p : peerProcesses) {
                        String reply = p.load(row.name()); // a row a peer fails on fails at its first forward
                        if (reply.startsWith("ns ")) {
                            runners.add(p);
                            timedPeers.add(p);
                        } else {
                            peerWhy.put(p, reply);
                        }
                    }
                    if (busy != null) {
                        // The same rounds without the busy core first, for the slowdown it causes per backend.
                        toggle(busy, false);
                        Timing quiet = measure(runners, budget);
                        toggle(busy, true);
                        Map<String, Double> q = quietMs.computeIfAbsent(row.name(), k -> new LinkedHashMap<>());
                        int j = 0;
                        for (Backend b : models.keySet()) {
                            q.put(b.name(), quiet.medians()[j++]);
                        }
                        for (PeerProcess p : timedPeers) {
                            if (quiet.failures()[j] == null) {
                                q.put(p.spec.label(), quiet.medians()[j]);
                            }
                            j++;
                        }
                    }
                    Timing timing = measure(runners, budget);
                    stealPercent.put(row.name(), timing.stealPercent());
                    int i = 0;
                    for (Backend b : models.keySet()) {
                        LocalRunner r = (LocalRunner) runners.get(i);
                        results.put(b, new Measurement(timing.medians()[i++], r.first));
                    }
                    for (PeerProcess p : timedPeers) {
                        if (timing.failures()[i] != null) {
                            peerWhy.put(p, p.fail(timing.failures()[i]));
                        } else {
                            peerMs.put(p, timing.medians()[i]);
                        }
                        i++;
                    }
                } finally {
                    models.values().forEach(Lstm::close);
                }
                // A row's GEMMs may run closer to the peak than the probe before it did (a core was busy then):
                // probe again, and while a row still beats it, again (a few times), so that no row's share of
                // the peak exceeds 100 %.
                peak.probe();
                double fastest = 0;
                for (Measurement m : results.values()) {
                    fastest = Math.max(fastest, row.flops() / (m.medianMs() * 1e6));
                }
                for (Double ms : peerMs.values()) {
                    fastest = Math.max(fastest, row.flops() / (ms * 1e6));
                }
                for (int retry = 0; retry < Peak.RETRIES && peak.below(fastest); retry++) {
                    peak.probe();
                }
                Measurement ref = results.get(Backend.LIBTORCH);
                Map<String, Double> rowMs = medians.computeIfAbsent(row.name(), k -> new LinkedHashMap<>());
                results.forEach((b, m) -> rowMs.put(b.name(), m.medianMs()));
                if (!peerProcesses.isEmpty()) {
                    Measurement anyRef = ref != null ? ref : results.values().stream().findFirst().orElse(null);
                    if (!peerMs.isEmpty() && anyRef != null) {
                        try {
                            writeRaw(peerDir.resolve(row.name() + ".reference"), anyRef.result().output());
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                    for (PeerProcess p : peerProcesses) {
                        if (peerMs.containsKey(p)) {
                            String diff = anyRef == null ? "n/a" : p.diff();
                            rowMs.put(p.spec.label(), peerMs.get(p));
                            peerRows.add(new PeerRow(p.spec, row, peerMs.get(p), diff, null));
                        } else {
                            peerRows.add(new PeerRow(p.spec, row, Double.NaN, "n/a",
                                    peerWhy.getOrDefault(p, "error: no result")));
                        }
                    }
                    deleteRowFiles(peerDir, row.name());
                }
                for (Map.Entry<Backend, Measurement> e : results.entrySet()) {
                    Measurement m = e.getValue();
                    String ratio = ref == null ? "n/a"
                            : String.format(Locale.ROOT, "%.3f", m.medianMs() / ref.medianMs());
                    String diff = "n/a";
                    if (ref != null) {
                        double d = maxAbsDiff(m.result(), ref.result());
                        diff = String.format(Locale.ROOT, "%.3e", d);
                        if (!(d <= TOLERANCE)) {
                            diff += " MISMATCH";
                            mismatches.add(row.name() + " " + e.getKey() + " (" + diff + ")");
                        }
                    }
                    String ms = String.format(Locale.ROOT, "%.4f", m.medianMs());
                    double gflops = row.flops() / (m.medianMs() * 1e6);
                    out.printf(format, row.name(), e.getKey(), device, ms, String.format(Locale.ROOT, "%.1f", gflops),
                            peak.percent(gflops), ratio, diff);
                    if (csvOut != null) {
                        writeCsv(csvOut, csvLine(row.name(), e.getKey().name(), device.toString(), ms, gflops,
                                peak.gflops, ratio, ref == null ? "n/a"
                                        : String.format(Locale.ROOT, "%.3e", maxAbsDiff(m.result(), ref.result())),
                                busy != null, stealPercent.get(row.name()), ""));
                    }
                    measured++;
                }
                printSteal(stealPercent.get(row.name()));
            }
        } finally {
            peerProcesses.forEach(PeerProcess::close);
        }
        if (!peerProcesses.isEmpty()) {
            printPeers(peerRows, format, peak, medians, csvOut, busy != null, stealPercent);
            printFastest(medians, stealPercent);
        }
        if (busy != null) {
            printSlowdown(medians, quietMs);
        }
        if (peak.probes > 1) {
            out.printf(Locale.ROOT, "%nfloat32 FMA peak, best of %d probes over the run: %.1f GFLOP/s%n", peak.probes,
                    peak.gflops);
        }
        unavailable.forEach((b, why) -> out.println("not available: " + b + ": " + why));
        out.printf("%nmax_abs_diff_vs_libtorch: largest |difference| over output, h_n and c_n; tolerance %.0e%n",
                TOLERANCE);
        if (plot != null && !medians.isEmpty()) {
            try {
                BenchPlot.write(plot, medians, String.format(Locale.ROOT, "lstm4j bench, float32 %s%s", device,
                        busy == null ? "" : ", one busy core"));
                out.println("plot: " + plot);
            } catch (IOException | RuntimeException e) {
                err.println("lstm4j bench: cannot write the plot " + plot + ": " + e);
                return 2;
            }
        }
        if (measured == 0) {
            err.println("lstm4j bench: none of the selected backends is available");
            return 2;
        }
        if (!mismatches.isEmpty()) {
            err.println("lstm4j bench: results differ from LIBTORCH beyond " + TOLERANCE + ": "
                    + String.join(", ", mismatches));
            return 1;
        }
        return 0;
    }

    /**
     * The float32 FMA peak, probed at the start and again after each row, the best kept: a probe can only
     * be slowed (a core busy with a JIT compiler or another process while it ran), never sped up.
     */
    private static final class Peak {
        private final int threads;
        double gflops = Double.NaN;
        int probes;

        Peak(int threads) {
            this.threads = threads;
        }

        /** Probes once more; false where there is no native code (then no peak column) or no CPU device. */
        boolean probe() {
            if (threads <= 0) {
                return false;
            }
            try {
                double g = Backend.NATIVE.fmaPeakGflops(threads);
                gflops = Double.isNaN(gflops) ? g : Math.max(gflops, g);
                probes++;
                return true;
            } catch (IllegalStateException e) {
                return false; // no native code here
            }
        }

        /** Probes more after a row that beat the best probe so far, at most this many times. */
        static final int RETRIES = 4;

        /** Whether a row's rate exceeds the best probe so far: that probe ran while a core was busy. */
        boolean below(double rowGflops) {
            return !Double.isNaN(gflops) && rowGflops > gflops;
        }

        String percent(double rowGflops) {
            return Double.isNaN(gflops) ? "n/a" : String.format(Locale.ROOT, "%.1f", 100 * rowGflops / gflops);
        }
    }

    /** Deletes the peer files of one row: the large rows' weights are ~100 MB. */
    private static void deleteRowFiles(Path dir, String row) {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().startsWith(row + ".")) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            // the folder goes at the end anyway
        }
    }

    /** Deletes the peers' folder and everything in it (row files, logs). */
    static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // best effort: it is a temporary folder
        }
    }

    /**
     * Milliseconds the JIT compilers of this JVM and of the runners' own JVMs (a peer's) have spent so
     * far, or -1 where the JVM does not say.
     */
    private static long jitMillis(List<Runner> runners, String[] failures) {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        long total = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
        for (int i = 0; i < runners.size(); i++) {
            if (failures[i] == null) {
                try {
                    total += runners.get(i).jitMillis();
                } catch (RuntimeException e) {
                    if (!runners.get(i).dropOnFailure()) {
                        throw e;
                    }
                    failures[i] = e.getMessage();
                }
            }
        }
        return total;
    }

    /** A backend being timed: lstm4j's own (in this process) or a peer (in its own). */
    private interface Runner {
        /** Milliseconds the JIT of the runner's own JVM has spent, if it has its own; else 0. */
        default long jitMillis() {
            return 0;
        }

        /** Whether a failure drops this runner from the row (a peer) rather than ending the bench. */
        default boolean dropOnFailure() {
            return false;
        }

        /** One untimed call (warm-up); its duration in ns. */
        long call();

        /** {@code calls} timed calls back to back; their durations in ms. */
        double[] block(int calls);
    }

    /** An lstm4j model; keeps its first call's result for the comparison. */
    private static final class LocalRunner implements Runner {
        private final Lstm model;
        private final Tensor input;
        LstmOutput first;

        LocalRunner(Lstm model, Tensor input) {
            this.model = model;
            this.input = input;
        }

        @Override
        public long call() {
            long t0 = System.nanoTime();
            LstmOutput out = model.forward(input);
            long dt = System.nanoTime() - t0;
            if (first == null) {
                first = out;
            }
            return dt;
        }

        @Override
        public double[] block(int calls) {
            double[] ms = new double[calls];
            for (int c = 0; c < calls; c++) {
                long t0 = System.nanoTime();
                model.forward(input);
                ms[c] = (System.nanoTime() - t0) / 1e6;
            }
            return ms;
        }
    }

    /**
     * Times every runner on the same input in interleaved rounds, the starting one rotating, so that
     * drift of the machine falls on all of them alike. In a round each runner runs a block of calls
     * lasting about {@code blockNanos}, after an untimed pause (see {@link #settle}), and every call is
     * timed: threads a backend leaves spinning after it returns (LibTorch's OpenMP pool spins for
     * milliseconds) have gone quiet by the next block. Warm-up rounds first; then timed rounds until
     * every runner has {@code minCalls} calls and {@code minNanos} of its own time, or
     * {@code maxCalls} calls. Returns the median ms per call of each runner, in order; a peer that fails
     * (its process exits, say) is dropped from the rounds with its reason, and the others go on.
     */
    private static Timing measure(List<Runner> runners, Budget budget) {
        int k = runners.size();
        double[] medians = new double[k];
        String[] failures = new String[k];
        if (k == 0) {
            return new Timing(medians, failures, Double.NaN);
        }
        long[] last = new long[k];
        int rounds = 0;
        long warmStart = System.nanoTime();
        while (rounds < budget.warmupCalls() || System.nanoTime() - warmStart < budget.warmupNanos() * k) {
            for (int i = 0; i < k; i++) {
                last[i] = call(runners, i, failures);
            }
            rounds++;
        }
        long quietDeadline = System.nanoTime() + budget.jitQuietNanos();
        while (System.nanoTime() < quietDeadline) {
            long before = jitMillis(runners, failures);
            for (int i = 0; i < k; i++) {
                last[i] = call(runners, i, failures);
            }
            if (jitMillis(runners, failures) == before) {
                break;
            }
        }
        int[] block = new int[k];
        for (int i = 0; i < k; i++) {
            // At least ~blockNanos, and at least 3 calls while 3 calls take under 2 s: the first call of a
            // block may follow another backend's spinning threads, and the median must not see it.
            long t = Math.max(1, last[i]);
            long calls = Math.max(budget.blockNanos() / t, 3 * t <= 2_000_000_000L ? 3 : 1);
            block[i] = (int) Math.max(1, Math.min(budget.maxCalls() / 4, calls));
        }
        long[] spent = new long[k];
        int[] calls = new int[k];
        CpuSteal before = CpuSteal.now();
        double[][] ms = new double[k][budget.maxCalls()];
        for (int round = 0; !done(calls, spent, failures, budget); round++) {
            for (int j = 0; j < k; j++) {
                int i = (j + round) % k;
                int n = Math.min(block[i], budget.maxCalls() - calls[i]);
                if (n <= 0 || failures[i] != null) {
                    continue;
                }
                settle();
                double[] times;
                try {
                    times = runners.get(i).block(n);
                } catch (RuntimeException e) {
                    if (!runners.get(i).dropOnFailure()) {
                        throw e;
                    }
                    failures[i] = e.getMessage();
                    continue;
                }
                for (double t : times) {
                    spent[i] += (long) (t * 1e6);
                    ms[i][calls[i]++] = t;
                }
            }
        }
        double steal = CpuSteal.percent(before, CpuSteal.now());
        for (int i = 0; i < k; i++) {
            int n = calls[i];
            Arrays.sort(ms[i], 0, n);
            medians[i] = failures[i] != null || n == 0 ? Double.NaN
                    : n % 2 == 1 ? ms[i][n / 2] : (ms[i][n / 2 - 1] + ms[i][n / 2]) / 2;
        }
        return new Timing(medians, failures, steal);
    }

    /**
     * The median ms of each runner, why a dropped one has none (else null), and the percent of CPU time
     * stolen by the hypervisor during the timed rounds (NaN if unknown).
     */
    private record Timing(double[] medians, String[] failures, double stealPercent) {
    }

    /** One untimed call of runner i, or 0 once it has failed (a peer; a local failure is thrown). */
    private static long call(List<Runner> runners, int i, String[] failures) {
        if (failures[i] != null) {
            return 0;
        }
        try {
            return runners.get(i).call();
        } catch (RuntimeException e) {
            if (!runners.get(i).dropOnFailure()) {
                throw e;
            }
            failures[i] = e.getMessage();
            return 0;
        }
    }

    /**
     * A pause before each block, untimed, so that threads the previous backend left spinning (GNU
     * OpenMP's workers spin for milliseconds after each LibTorch call) have gone to sleep and every
     * backend starts its block on an idle machine, as a peer in its own process does.
     */
    private static void settle() {
        try {
            Thread.sleep(SETTLE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean done(int[] calls, long[] spent, String[] failures, Budget budget) {
        for (int i = 0; i < calls.length; i++) {
            if (failures[i] == null && calls[i] < budget.maxCalls()
                    && (calls[i] < budget.minCalls() || spent[i] < budget.minNanos())) {
                return false;
            }
        }
        return true;
    }

    /** The row's sizes, weights and input as the peers read them (raw float32), written once per row. */
    private static void writePeerRow(Path dir, BenchmarkRow row, StateDict weights, Tensor input) {
        try {
            LstmConfig c = row.config();
            String props = String.join("\n", "input_size=" + c.inputSize(), "hidden_size=" + c.hiddenSize(),
                    "num_layers=" + c.numLayers(), "bidirectional=" + c.bidirectional(), "proj_size=" + c.projSize(),
                    "batch=" + row.batch(), "seq_len=" + row.seqLen()) + "\n";
            Files.writeString(dir.resolve(row.name() + ".properties"), props);
            writeRaw(dir.resolve(row.name() + ".input"), input);
            for (Map.Entry<String, Tensor> e : weights.asMap().entrySet()) {
                writeRaw(dir.resolve(row.name() + "." + e.getKey()), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeRaw(Path file, Tensor t) throws IOException {
        float[] f = t.floatData();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * f.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        Files.write(file, b.array());
    }

    /**
     * A peer: another library's LSTM, in its own JVM (two LibTorch versions must never share a process),
     * built as its own Maven project under {@code peers/KEY}. The class path and main class can be set
     * with the system properties {@code lstm4j.peers.KEY.classpath} and {@code lstm4j.peers.KEY.main}
     * (the launcher and the tests do).
     */
    record PeerSpec(String label, String key, String version, String mainClass, List<String> jvmFlags) {
        String classpath() {
            return System.getProperty("lstm4j.peers." + key + ".classpath", "peers/" + key + "/target/classes"
                    + java.io.File.pathSeparator + "peers/" + key + "/target/lib/*");
        }

        String main() {
            return System.getProperty("lstm4j.peers." + key + ".main", mainClass);
        }
    }

    /** The peers of {@code --peers}, in the order of their lines. */
    static final List<PeerSpec> PEERS = List.of(
            // DJL downloads nothing: its PyTorch native jar is on the class path.
            new PeerSpec("DJL", "djl", "DJL 0.35.1 (ai.djl.pytorch, PyTorch 2.7.1 CPU)", "dev.lstm4j.peers.DjlPeer",
                    List.of("-Dai.djl.offline=true")),
            // The peer sets intra-op threads = cores and session.force_spinning_stop=1 itself.
            new PeerSpec("ORT", "ort", "ONNX Runtime 1.29.0 (CPU LSTM operator, intra-op threads = cores, "
                    + "session.force_spinning_stop=1)", "dev.lstm4j.peers.OrtPeer", List.of()));

    /** A peer's result on one row: its median, or why it has none. */
    private record PeerRow(PeerSpec peer, BenchmarkRow row, double medianMs, String diff, String why) {
    }

    /**
     * One peer's process, driven one command per line (see {@code DjlPeer} and {@code OrtPeer}: the same
     * protocol) and timed as one more runner in the interleaved rounds: its blocks run in its process,
     * between lstm4j's blocks, after the same pauses. A peer that fails (cannot start, exits) is marked
     * failed and answers every later row with that reason; the other peers and the backends go on.
     */
    private static final class PeerProcess implements Runner, AutoCloseable {
        private static final String REPLY = "@lstm4j-peer ";
        final PeerSpec spec;
        private final Process process;
        private final Path log;
        private final BufferedWriter in;
        private final java.io.BufferedReader replies;
        private String failure;

        private PeerProcess(PeerSpec spec, Process process, Path log, String failure) {
            this.spec = spec;
            this.process = process;
            this.log = log;
            this.failure = failure;
            this.in = process == null ? null : new BufferedWriter(new java.io.OutputStreamWriter(
                    process.getOutputStream(), java.nio.charset.StandardCharsets.UTF_8));
            this.replies = process == null ? null : new java.io.BufferedReader(new java.io.InputStreamReader(
                    process.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
        }

        /** Starts the peer on the row files in {@code dir}; one that cannot start is returned failed. */
        static PeerProcess start(PeerSpec spec, Path dir) {
            String cp = spec.classpath();
            Path log = dir.resolve(spec.key() + "-peer.log");
            if (!Files.isDirectory(Path.of(cp.split(java.io.File.pathSeparator)[0]))) {
                return new PeerProcess(spec, null, log, "not available: the peer is not built (./lstm4j bench "
                        + "--peers builds peers/" + spec.key() + " with Maven)");
            }
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(spec.jvmFlags());
            cmd.addAll(List.of("-cp", cp, spec.main(), dir.toString()));
            try {
                // Its replies come on its stdout; what the library logs goes to its own file beside the row files.
                return new PeerProcess(spec, new ProcessBuilder(cmd)
                        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start(), log, null);
            } catch (IOException e) {
                return new PeerProcess(spec, null, log, "error: cannot start the peer: " + e.getMessage());
            }
        }

        /** Loads a row and runs its first forward: {@code ns T}, or why not (the peer's reply or failure). */
        String load(String row) {
            if (failure != null) {
                return failure;
            }
            try {
                String reply = request("load " + row);
                return reply.equals("ready") ? request("call") : reply;
            } catch (RuntimeException e) {
                return fail(e.getMessage());
            }
        }

        /** The peer's largest difference to the reference written for the row, or its error. */
        String diff() {
            try {
                String reply = request("diff");
                return reply.startsWith("diff ") ? reply.substring(5) : reply;
            } catch (RuntimeException e) {
                return fail(e.getMessage());
            }
        }

        /**
         * Marks the peer failed with this reason (and the last lines of its log, which goes with the
         * peers' folder at the end) and stops its process; returns the reason as later rows show it.
         */
        String fail(String why) {
            if (failure == null) {
                String tail = "";
                try {
                    List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
                    tail = String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())).strip();
                } catch (IOException | UncheckedIOException e) {
                    // no log to quote
                }
                failure = "error: " + why + (tail.isEmpty() ? "" : " (its log: " + tail + ")");
                close();
            }
            return failure;
        }

        /** Sends one command and returns the peer's one-line reply. */
        String request(String command) {
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
            try {
                in.write(command);
                in.newLine();
                in.flush();
                for (String line; (line = replies.readLine()) != null;) {
                    if (line.startsWith(REPLY)) {
                        return line.substring(REPLY.length());
                    }
                    // a library's own output on stdout: not a reply
                }
                throw new IllegalStateException("the " + spec.label() + " peer exited (code " + process.waitFor()
                        + ")");
            } catch (IOException e) {
                throw new IllegalStateException("the " + spec.label() + " peer: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the " + spec.label() + " peer", e);
            }
        }

        @Override
        public boolean dropOnFailure() {
            return true;
        }

        @Override
        public long jitMillis() {
            String reply = request("jit");
            return reply.startsWith("jit ") ? Long.parseLong(reply.substring(4)) : 0;
        }

        @Override
        public long call() {
            String reply = request("call");
            if (!reply.startsWith("ns ")) {
                throw new IllegalStateException(reply);
            }
            return Long.parseLong(reply.substring(3));
        }

        @Override
        public double[] block(int calls) {
            String reply = request("block " + calls);
            if (!reply.startsWith("ms ")) {
                throw new IllegalStateException(reply);
            }
            String[] f = reply.substring(3).split(" ");
            double[] ms = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                ms[i] = Double.parseDouble(f[i]);
            }
            return ms;
        }

        @Override
        public void close() {
            if (process == null || !process.isAlive()) {
                return;
            }
            try {
                in.write("quit");
                in.newLine();
                in.flush();
            } catch (IOException e) {
                // already gone
            }
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The peers' lines of the table and the CSV, after lstm4j's own: one block per peer. */
    private void printPeers(List<PeerRow> peerRows, String format, Peak peak, Map<String, Map<String, Double>> medians,
            BufferedWriter csvOut, boolean busy, Map<String, Double> stealPercent) {
        for (PeerSpec spec : PEERS) {
            out.printf("%npeer %s: %s, in its own JVM, timed in the same interleaved rounds as the rows above; same "
                    + "weights and input:%n", spec.label(), spec.version());
            for (PeerRow p : peerRows) {
                if (p.peer() != spec) {
                    continue;
                }
                String name = p.row().name();
                if (Double.isNaN(p.medianMs())) {
                    out.printf("%-28s %-9s %s%n", name, spec.label(), p.why());
                    if (csvOut != null) {
                        writeCsv(csvOut, csvLine(name, spec.label(), "cpu", "", Double.NaN, peak.gflops, "", "", busy,
                                Double.NaN, p.why()));
                    }
                    continue;
                }
                double ms = p.medianMs();
                Double lt = medians.get(name).get(Backend.LIBTORCH.name());
                String ratio = lt == null ? "n/a" : String.format(Locale.ROOT, "%.3f", ms / lt);
                double gflops = p.row().flops() / (ms * 1e6);
                out.printf(format, name, spec.label(), "cpu", String.format(Locale.ROOT, "%.4f", ms),
                        String.format(Locale.ROOT, "%.1f", gflops), peak.percent(gflops), ratio, p.diff());
                Double nat = medians.get(name).get(Backend.NATIVE.name());
                if (nat != null) {
                    out.printf(Locale.ROOT, "%-28s NATIVE / %s = %.3f%n", "", spec.label(), nat / ms);
                }
                if (csvOut != null) {
                    writeCsv(csvOut, csvLine(name, spec.label(), "cpu", String.format(Locale.ROOT, "%.4f", ms), gflops,
                            peak.gflops, ratio, p.diff(), busy, stealPercent.getOrDefault(name, Double.NaN), ""));
                }
            }
        }
    }

    private static void toggle(BusyCore busy, boolean spin) {
        try {
            if (spin) {
                busy.resume();
            } else {
                busy.pause();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Per row and backend or peer: the median with the busy core over the median of the same rounds with it
     * paused, timed just before (1.5 would be a fair share: three threads on two cores).
     */
    private void printSlowdown(Map<String, Map<String, Double>> busyMs, Map<String, Map<String, Double>> quietMs) {
        out.printf("%nbusy core: slowdown per row = median with the busy core / median without it (timed just "
                + "before, same rounds)%n");
        for (Map.Entry<String, Map<String, Double>> row : busyMs.entrySet()) {
            Map<String, Double> quiet = quietMs.getOrDefault(row.getKey(), Map.of());
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-28s", row.getKey()));
            for (Map.Entry<String, Double> e : row.getValue().entrySet()) {
                Double q = quiet.get(e.getKey());
                if (q != null) {
                    line.append(String.format(Locale.ROOT, "  %s %.3f", e.getKey(), e.getValue() / q));
                }
            }
            out.println(line);
        }
    }

    /** Per row: NATIVE's and JAVA's time over the fastest of LIBTORCH and the peers that ran it. */
    private void printFastest(Map<String, Map<String, Double>> medians, Map<String, Double> stealPercent) {
        out.printf("%nfastest peer (LIBTORCH, %s) per row; < 1: lstm4j is faster%n",
                String.join(", ", PEERS.stream().map(PeerSpec::label).toList()));
        for (Map.Entry<String, Map<String, Double>> row : medians.entrySet()) {
            String fastest = null;
            for (String peer : fastestCandidates()) {
                Double ms = row.getValue().get(peer);
                if (ms != null && (fastest == null || ms < row.getValue().get(fastest))) {
                    fastest = peer;
                }
            }
            if (fastest == null) {
                out.printf("%-28s no peer ran this row%n", row.getKey());
                continue;
            }
            double f = row.getValue().get(fastest);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-28s %-8s %10.4f ms", row.getKey(),
                    fastest, f));
            for (Backend b : List.of(Backend.NATIVE, Backend.JAVA)) {
                Double ms = row.getValue().get(b.name());
                if (ms != null) {
                    line.append(String.format(Locale.ROOT, "   %s / fastest peer = %.3f", b, ms / f));
                }
            }
            double steal = stealPercent.getOrDefault(row.getKey(), Double.NaN);
            if (!Double.isNaN(steal)) {
                line.append(String.format(Locale.ROOT, "   steal %.1f %%", steal));
            }
            out.println(line);
        }
    }

    private static List<String> fastestCandidates() {
        List<String> names = new ArrayList<>();
        names.add(Backend.LIBTORCH.name());
        PEERS.forEach(p -> names.add(p.label()));
        return names;
    }

    private static String envOrUnset(String name) {
        String v = System.getenv(name);
        return v == null ? "(unset)" : v;
    }

    private static double maxAbsDiff(LstmOutput a, LstmOutput b) {
        return Math.max(a.output().maxAbsDiff(b.output()), Math.max(a.hN().maxAbsDiff(b.hN()),
                a.cN().maxAbsDiff(b.cN())));
    }

    /** One CSV record; the note (a peer's error, say) is quoted, as it may hold commas. */
    private static String csvLine(String config, String backend, String device, String ms, double gflops, double peak,
            String ratio, String diff, boolean busy, double steal, String note) {
        return String.join(",", config, backend, device, ms,
                Double.isNaN(gflops) ? "" : String.format(Locale.ROOT, "%.1f", gflops),
                Double.isNaN(peak) ? "" : String.format(Locale.ROOT, "%.1f", peak), ratio, diff, String.valueOf(busy),
                Double.isNaN(steal) ? "" : String.format(Locale.ROOT, "%.1f", steal),
                note.isEmpty() ? "" : "\"" + note.replace("\"", "\"\"") + "\"");
    }

    /**
     * The hypervisor's share of the CPU time while a row was timed (another guest ran on our cores): a
     * two-thread forward slows by about that share, and nothing in the process can prevent it.
     */
    private void printSteal(double steal) {
        if (!Double.isNaN(steal)) {
            out.printf(Locale.ROOT, "%-28s steal: %.1f %% of the CPU time while timed (/proc/stat)%n", "", steal);
        }
    }

    private static void writeCsv(BufferedWriter w, String line) {
        try {
            w.write(line);
            w.newLine();
            w.flush(); // a long run interrupted still leaves the rows done so far
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> names(String option, String list) {
        List<String> names = new ArrayList<>();
        for (String s : list.split(",", -1)) {
            if (s.isBlank()) {
                throw new Main.UsageException(option + ": expected a comma-separated list of names, got '" + list
                        + "'");
            }
            names.add(s.trim());
        }
        return names;
    }

    /** The named rows, in grid order. */
    private static List<BenchmarkRow> parseRows(String list) {
        Set<BenchmarkRow> chosen = new LinkedHashSet<>();
        for (String name : names("--rows", list)) {
            try {
                chosen.add(BenchmarkRow.named(name));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("--rows: " + e.getMessage());
            }
        }
        return BenchmarkRow.all().stream().filter(chosen::contains).toList();
    }

    /** The named backends, in {@link Backend} order. */
    private static Set<Backend> parseBackends(String list) {
        Set<Backend> chosen = EnumSet.noneOf(Backend.class);
        for (String name : names("--backends", list)) {
            try {
                chosen.add(Backend.parse(name));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("--backends: " + e.getMessage());
            }
        }
        return chosen;
    }
}
