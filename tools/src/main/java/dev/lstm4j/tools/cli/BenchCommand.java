package dev.lstm4j.tools.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.tools.bench.BenchmarkRow;
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

/**
 * {@code lstm4j bench [--quick] [--rows NAME,...] [--backends B,...] [--csv FILE]}: times float32 CPU
 * forward passes of the {@link BenchmarkRow} grid on every selected, available backend in one process,
 * and prints per row and backend the median time, the ratio to LIBTORCH's time and the largest
 * difference to LIBTORCH's result. Exit 0 on success, 1 if a backend disagrees with LIBTORCH beyond
 * {@value #TOLERANCE}, 2 on bad usage, an unwritable CSV file or no available backend.
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
            + "max_abs_diff_vs_libtorch,note";

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

    @Option(names = "--peers", description = "also DJL 0.35.1 in its own JVM (peers/djl)")
    boolean peers;

    @Option(names = "--csv", paramLabel = "FILE",
            description = "also write config,backend,device,median_ms,gflops,fma_peak_gflops,ratio_vs_libtorch,"
                    + "max_abs_diff_vs_libtorch,note")
    Path csv;

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
        Budget budget = quick ? QUICK : FULL;
        List<BenchmarkRow> rows = rowNames == null ? BenchmarkRow.all() : parseRows(rowNames);
        Set<Backend> backends = backendNames == null ? EnumSet.allOf(Backend.class) : parseBackends(backendNames);

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
        Map<String, Double> libtorchMs = new LinkedHashMap<>();
        Map<String, Double> nativeMs = new LinkedHashMap<>();
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
        out.printf("threads: OMP_NUM_THREADS=%s, OPENBLAS_NUM_THREADS=%s, OMP_WAIT_POLICY=%s%n%n",
                envOrUnset("OMP_NUM_THREADS"), envOrUnset("OPENBLAS_NUM_THREADS"), envOrUnset("OMP_WAIT_POLICY"));
        double peak = Double.NaN;
        int threads = Runtime.getRuntime().availableProcessors();
        if (device.isCpu()) {
            try {
                peak = Backend.NATIVE.fmaPeakGflops(threads);
            } catch (IllegalStateException e) {
                // no native code here: no peak column
            }
        }
        if (!Double.isNaN(peak)) {
            out.printf(Locale.ROOT, "float32 FMA peak of this machine: %.1f GFLOP/s (%d threads, measured now); "
                    + "gflops = GEMM flops / median time%n%n", peak, threads);
        }
        String format = "%-28s %-9s %-6s %12s %9s %7s %18s %25s%n";
        out.printf(format, "config", "backend", "device", "median_ms", "gflops", "%peak", "ratio_vs_libtorch",
                "max_abs_diff_vs_libtorch");
        Map<Backend, String> unavailable = new LinkedHashMap<>();
        List<String> mismatches = new ArrayList<>();
        int measured = 0;
        PeerProcess peer = null;
        String peerWhyNot = null;
        List<PeerRow> peerRows = new ArrayList<>();
        if (peerDir != null) {
            try {
                peer = PeerProcess.start(peerDir);
            } catch (IOException e) {
                peerWhyNot = e.getMessage();
            }
        }
        for (BenchmarkRow row : rows) {
            Random rnd = new Random(BenchmarkRow.SEED);
            StateDict weights = row.weights(rnd);
            Tensor input = row.input(rnd);
            // The backends of a row (and the peer) are timed in interleaved rounds (see measure), before
            // any line is printed: ratios need LIBTORCH's time.
            Map<Backend, Lstm> models = new EnumMap<>(Backend.class);
            Map<Backend, Measurement> results = new EnumMap<>(Backend.class);
            double peerMs = Double.NaN;
            String peerWhy = null;
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
                if (peer != null) {
                    writePeerRow(peerDir, row, weights, input);
                    String reply = peer.request("load " + row.name());
                    if (reply.equals("ready")) {
                        reply = peer.request("call"); // a row DJL fails on fails at its first forward
                    }
                    if (reply.startsWith("ns ")) {
                        runners.add(peer);
                    } else {
                        peerWhy = reply;
                    }
                }
                double[] medians = measure(runners, budget);
                int i = 0;
                for (Backend b : models.keySet()) {
                    LocalRunner r = (LocalRunner) runners.get(i);
                    results.put(b, new Measurement(medians[i++], r.first));
                }
                if (i < runners.size()) {
                    peerMs = medians[i];
                }
            } finally {
                models.values().forEach(Lstm::close);
            }
            Measurement ref = results.get(Backend.LIBTORCH);
            if (ref != null) {
                libtorchMs.put(row.name(), ref.medianMs());
            }
            if (results.containsKey(Backend.NATIVE)) {
                nativeMs.put(row.name(), results.get(Backend.NATIVE).medianMs());
            }
            if (peer != null) {
                String diff = "n/a";
                Measurement anyRef = ref != null ? ref : results.values().stream().findFirst().orElse(null);
                if (!Double.isNaN(peerMs) && anyRef != null) {
                    try {
                        writeRaw(peerDir.resolve(row.name() + ".reference"), anyRef.result().output());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    String reply = peer.request("diff");
                    diff = reply.startsWith("diff ") ? reply.substring(5) : reply;
                }
                peerRows.add(new PeerRow(row, peerMs, diff, peerWhy));
            }
            for (Map.Entry<Backend, Measurement> e : results.entrySet()) {
                Measurement m = e.getValue();
                String ratio = ref == null ? "n/a" : String.format(Locale.ROOT, "%.3f", m.medianMs() / ref.medianMs());
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
                        Double.isNaN(peak) ? "n/a" : String.format(Locale.ROOT, "%.1f", 100 * gflops / peak), ratio,
                        diff);
                if (csvOut != null) {
                    writeCsv(csvOut, csvLine(row.name(), e.getKey().name(), device.toString(), ms, gflops, peak, ratio,
                            ref == null ? "n/a" : String.format(Locale.ROOT, "%.3e", maxAbsDiff(m.result(), ref.result())),
                            ""));
                }
                measured++;
            }
        }
        if (peer != null) {
            peer.close();
            printPeers(peerRows, format, peak, libtorchMs, nativeMs, csvOut);
        } else if (peerWhyNot != null) {
            out.println("not available: DJL: " + peerWhyNot);
        }
        unavailable.forEach((b, why) -> out.println("not available: " + b + ": " + why));
        out.printf("%nmax_abs_diff_vs_libtorch: largest |difference| over output, h_n and c_n; tolerance %.0e%n",
                TOLERANCE);
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
     * Milliseconds the JIT compilers of this JVM and of the runners' own JVMs (a peer's) have spent so
     * far, or -1 where the JVM does not say.
     */
    private static long jitMillis(List<Runner> runners) {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        long total = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
        for (Runner r : runners) {
            total += r.jitMillis();
        }
        return total;
    }

    /** A backend being timed: lstm4j's own (in this process) or a peer (in its own). */
    private interface Runner {
        /** Milliseconds the JIT of the runner's own JVM has spent, if it has its own; else 0. */
        default long jitMillis() {
            return 0;
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
     * {@code maxCalls} calls. Returns the median ms per call of each runner, in order.
     */
    private static double[] measure(List<Runner> runners, Budget budget) {
        int k = runners.size();
        double[] medians = new double[k];
        if (k == 0) {
            return medians;
        }
        long[] last = new long[k];
        int rounds = 0;
        long warmStart = System.nanoTime();
        while (rounds < budget.warmupCalls() || System.nanoTime() - warmStart < budget.warmupNanos() * k) {
            for (int i = 0; i < k; i++) {
                last[i] = runners.get(i).call();
            }
            rounds++;
        }
        long quietDeadline = System.nanoTime() + budget.jitQuietNanos();
        while (System.nanoTime() < quietDeadline) {
            long before = jitMillis(runners);
            for (int i = 0; i < k; i++) {
                last[i] = runners.get(i).call();
            }
            if (jitMillis(runners) == before) {
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
        double[][] ms = new double[k][budget.maxCalls()];
        for (int round = 0; !done(calls, spent, budget); round++) {
            for (int j = 0; j < k; j++) {
                int i = (j + round) % k;
                int n = Math.min(block[i], budget.maxCalls() - calls[i]);
                if (n <= 0) {
                    continue;
                }
                settle();
                for (double t : runners.get(i).block(n)) {
                    spent[i] += (long) (t * 1e6);
                    ms[i][calls[i]++] = t;
                }
            }
        }
        for (int i = 0; i < k; i++) {
            int n = calls[i];
            Arrays.sort(ms[i], 0, n);
            medians[i] = n % 2 == 1 ? ms[i][n / 2] : (ms[i][n / 2 - 1] + ms[i][n / 2]) / 2;
        }
        return medians;
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

    private static boolean done(int[] calls, long[] spent, Budget budget) {
        for (int i = 0; i < calls.length; i++) {
            if (calls[i] < budget.maxCalls() && (calls[i] < budget.minCalls() || spent[i] < budget.minNanos())) {
                return false;
            }
        }
        return true;
    }

    /** The row's sizes, weights, input and reference output as the DJL peer reads them (raw float32). */
    /** The row's sizes, weights and input as the DJL peer reads them (raw float32). */
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

    /** The peer's result on one row: its median, or why it has none. */
    private record PeerRow(BenchmarkRow row, double medianMs, String diff, String why) {
    }

    /**
     * The DJL peer, in its own JVM (two LibTorch versions must never share a process), driven one
     * command per line (see {@code peers/djl}'s {@code DjlPeer}) and timed as one more runner in the
     * interleaved rounds: its blocks run in its process, between lstm4j's blocks, after the same pauses.
     */
    private static final class PeerProcess implements Runner, AutoCloseable {
        private static final String REPLY = "@lstm4j-peer ";
        private final Process process;
        private final BufferedWriter in;
        private final java.io.BufferedReader replies;

        private PeerProcess(Process process) {
            this.process = process;
            this.in = new BufferedWriter(new java.io.OutputStreamWriter(process.getOutputStream(),
                    java.nio.charset.StandardCharsets.UTF_8));
            this.replies = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8));
        }

        static PeerProcess start(Path dir) throws IOException {
            String cp = System.getProperty("lstm4j.peers.djl.classpath",
                    "peers/djl/target/classes" + java.io.File.pathSeparator + "peers/djl/target/lib/*");
            if (!Files.isDirectory(Path.of(cp.split(java.io.File.pathSeparator)[0]))) {
                throw new IOException("the peer is not built (./lstm4j bench --peers builds peers/djl with Maven)");
            }
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dai.djl.offline=true", "-cp", cp,
                    System.getProperty("lstm4j.peers.djl.main", "dev.lstm4j.peers.DjlPeer"), dir.toString());
            // Its replies come on its stdout; what DJL and LibTorch log goes to a file beside the row files.
            return new PeerProcess(new ProcessBuilder(cmd)
                    .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("djl-peer.log").toFile())).start());
        }

        /** Sends one command and returns the peer's one-line reply. */
        String request(String command) {
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
                throw new IllegalStateException("the DJL peer exited (code " + process.waitFor() + ")");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the DJL peer", e);
            }
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
                throw new IllegalStateException("DJL peer: " + reply);
            }
            return Long.parseLong(reply.substring(3));
        }

        @Override
        public double[] block(int calls) {
            String reply = request("block " + calls);
            if (!reply.startsWith("ms ")) {
                throw new IllegalStateException("DJL peer: " + reply);
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
            try {
                request("quit");
            } catch (RuntimeException e) {
                // already gone
            }
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The peer's lines of the table and the CSV, after lstm4j's own. */
    private void printPeers(List<PeerRow> peerRows, String format, double peak, Map<String, Double> libtorchMs,
            Map<String, Double> nativeMs, BufferedWriter csvOut) {
        out.printf("%npeer DJL %s (ai.djl.pytorch 0.35.1, PyTorch 2.7.1 CPU), in its own JVM, timed in the same "
                + "interleaved rounds as the rows above; same weights and input:%n", "0.35.1");
        for (PeerRow p : peerRows) {
            String name = p.row().name();
            if (Double.isNaN(p.medianMs())) {
                String why = p.why() == null ? "error: no result" : p.why();
                out.printf("%-28s DJL       %s%n", name, why);
                if (csvOut != null) {
                    writeCsv(csvOut, csvLine(name, "DJL", "cpu", "", Double.NaN, peak, "", "", why));
                }
                continue;
            }
            double ms = p.medianMs();
            Double lt = libtorchMs.get(name);
            String ratio = lt == null ? "n/a" : String.format(Locale.ROOT, "%.3f", ms / lt);
            double gflops = p.row().flops() / (ms * 1e6);
            out.printf(format, name, "DJL", "cpu", String.format(Locale.ROOT, "%.4f", ms),
                    String.format(Locale.ROOT, "%.1f", gflops),
                    Double.isNaN(peak) ? "n/a" : String.format(Locale.ROOT, "%.1f", 100 * gflops / peak), ratio,
                    p.diff());
            Double nat = nativeMs.get(name);
            if (nat != null) {
                out.printf(Locale.ROOT, "%-28s NATIVE / DJL = %.3f%n", "", nat / ms);
            }
            if (csvOut != null) {
                writeCsv(csvOut, csvLine(name, "DJL", "cpu", String.format(Locale.ROOT, "%.4f", ms), gflops, peak,
                        ratio, p.diff(), ""));
            }
        }
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
            String ratio, String diff, String note) {
        return String.join(",", config, backend, device, ms,
                Double.isNaN(gflops) ? "" : String.format(Locale.ROOT, "%.1f", gflops),
                Double.isNaN(peak) ? "" : String.format(Locale.ROOT, "%.1f", peak), ratio, diff,
                note.isEmpty() ? "" : "\"" + note.replace("\"", "\"\"") + "\"");
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
