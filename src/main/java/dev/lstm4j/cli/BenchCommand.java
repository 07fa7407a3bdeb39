package dev.lstm4j.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.bench.BenchmarkRow;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
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

/**
 * {@code lstm4j bench [--quick] [--rows NAME,...] [--backends B,...] [--csv FILE]}: times float32 CPU
 * forward passes of the {@link BenchmarkRow} grid on every selected, available backend in one process,
 * and prints per row and backend the median time, the ratio to LIBTORCH's time and the largest
 * difference to LIBTORCH's result. Exit 0 on success, 1 if a backend disagrees with LIBTORCH beyond
 * {@value #TOLERANCE}, 2 on bad usage, an unwritable CSV file or no available backend.
 */
final class BenchCommand {
    /** Largest float32 difference to LIBTORCH accepted; far above rounding, far below a wrong result. */
    static final double TOLERANCE = 1e-4;
    /** Untimed pause before each block of calls; see {@link #settle()}. */
    static final long SETTLE_MILLIS = 30;
    static final String CSV_HEADER = "config,backend,device,median_ms,gflops,fma_peak_gflops,ratio_vs_libtorch,"
            + "max_abs_diff_vs_libtorch,note";

    /**
     * How long one row runs, per backend: warm-up until both {@code warmupCalls} and {@code warmupNanos}
     * are reached, then timed calls, in blocks of about {@code blockNanos} per backend and round, until
     * both {@code minCalls} and {@code minNanos} are reached, or {@code maxCalls}.
     */
    record Budget(int warmupCalls, long warmupNanos, int minCalls, long minNanos, int maxCalls, long blockNanos) {
        String describe() {
            return String.format(Locale.ROOT, "warm-up >= %d call(s)%s, then the median of >= %d calls and >= %s s "
                    + "(at most %d) in interleaved blocks of ~%s s", warmupCalls,
                    warmupNanos > 0 ? " and >= " + seconds(warmupNanos) + " s" : "", minCalls, seconds(minNanos),
                    maxCalls, seconds(blockNanos));
        }

        private static String seconds(long nanos) {
            return String.format(Locale.ROOT, "%.2g", nanos / 1e9);
        }
    }

    static final Budget FULL = new Budget(3, 500_000_000L, 5, 1_000_000_000L, 2000, 20_000_000L);
    static final Budget QUICK = new Budget(1, 0L, 3, 20_000_000L, 40, 2_000_000L);

    private final PrintStream out;
    private final PrintStream err;

    BenchCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** The timing of one backend on one row, and its first result (compared across backends). */
    private record Measurement(double medianMs, LstmOutput result) {
    }

    int run(String[] args) {
        Budget budget = FULL;
        Path csv = null;
        List<BenchmarkRow> rows = BenchmarkRow.all();
        Set<Backend> backends = EnumSet.allOf(Backend.class);
        Device device = Device.cpu();
        boolean peers = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--quick":
                    budget = QUICK;
                    break;
                case "--csv":
                    csv = Path.of(value(args, i++));
                    break;
                case "--rows":
                    rows = parseRows(value(args, i++));
                    break;
                case "--backends":
                    backends = parseBackends(value(args, i++));
                    break;
                case "--peers":
                    peers = true;
                    break;
                case "--device":
                    try {
                        device = Device.parse(value(args, i++));
                    } catch (IllegalArgumentException e) {
                        throw new Main.UsageException(e.getMessage());
                    }
                    break;
                default:
                    throw new Main.UsageException(a.startsWith("-") ? "unknown option " + a
                            : "unexpected argument '" + a + "'");
            }
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
        for (BenchmarkRow row : rows) {
            Random rnd = new Random(BenchmarkRow.SEED);
            StateDict weights = row.weights(rnd);
            Tensor input = row.input(rnd);
            // The backends of a row are timed in interleaved rounds (see measure), before any line is
            // printed: ratios need LIBTORCH's time.
            Map<Backend, Lstm> models = new EnumMap<>(Backend.class);
            Map<Backend, Measurement> results;
            try {
                for (Backend b : backends) {
                    if (unavailable.containsKey(b)) {
                        continue;
                    }
                    try {
                        models.put(b, Lstm.create(row.config(), weights, b, device));
                    } catch (IllegalStateException | IllegalArgumentException e) {
                        unavailable.put(b, e.getMessage()); // not built here, or not for this device
                    }
                }
                results = measure(models, input, budget);
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
            if (peerDir != null) {
                Measurement anyRef = ref != null ? ref : results.values().stream().findFirst().orElse(null);
                writePeerRow(peerDir, row, weights, input, anyRef == null ? null : anyRef.result(), budget);
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
        if (peerDir != null) {
            runPeers(peerDir, rows, format, peak, libtorchMs, nativeMs, csvOut);
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
     * Times every model on the same input in interleaved rounds, the starting backend rotating, so that
     * drift of the machine falls on all of them alike. In a round each backend runs a block of calls
     * lasting about {@code blockNanos}, and every call is timed: threads a backend leaves spinning
     * after it returns (LibTorch's OpenMP pool spins for milliseconds) then slow down the first
     * calls of the next block only, which the median discards, instead of every call of the next
     * backend. Warm-up rounds first; then timed rounds until every backend has {@code minCalls}
     * calls and {@code minNanos} of its own time, or {@code maxCalls} calls. The first call's result
     * of each backend is kept for comparison.
     */
    private static Map<Backend, Measurement> measure(Map<Backend, Lstm> models, Tensor input, Budget budget) {
        List<Backend> order = new ArrayList<>(models.keySet());
        int k = order.size();
        Map<Backend, Measurement> results = new EnumMap<>(Backend.class);
        if (k == 0) {
            return results;
        }
        Map<Backend, LstmOutput> first = new EnumMap<>(Backend.class);
        long[] last = new long[k];
        for (int i = 0; i < k; i++) {
            long t0 = System.nanoTime();
            first.put(order.get(i), models.get(order.get(i)).forward(input)); // the first warm-up call
            last[i] = System.nanoTime() - t0;
        }
        int rounds = 1;
        long warmStart = System.nanoTime();
        while (rounds < budget.warmupCalls() || System.nanoTime() - warmStart < budget.warmupNanos() * k) {
            for (int i = 0; i < k; i++) {
                long t0 = System.nanoTime();
                models.get(order.get(i)).forward(input);
                last[i] = System.nanoTime() - t0;
            }
            rounds++;
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
                Lstm model = models.get(order.get(i));
                settle();
                for (int c = 0; c < block[i] && calls[i] < budget.maxCalls(); c++) {
                    long t0 = System.nanoTime();
                    model.forward(input);
                    long dt = System.nanoTime() - t0;
                    spent[i] += dt;
                    ms[i][calls[i]++] = dt / 1e6;
                }
            }
        }
        for (int i = 0; i < k; i++) {
            int n = calls[i];
            Arrays.sort(ms[i], 0, n);
            double median = n % 2 == 1 ? ms[i][n / 2] : (ms[i][n / 2 - 1] + ms[i][n / 2]) / 2;
            results.put(order.get(i), new Measurement(median, first.get(order.get(i))));
        }
        return results;
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
    private static void writePeerRow(Path dir, BenchmarkRow row, StateDict weights, Tensor input, LstmOutput ref,
            Budget budget) {
        try {
            LstmConfig c = row.config();
            String props = String.join("\n", "input_size=" + c.inputSize(), "hidden_size=" + c.hiddenSize(),
                    "num_layers=" + c.numLayers(), "bidirectional=" + c.bidirectional(), "proj_size=" + c.projSize(),
                    "batch=" + row.batch(), "seq_len=" + row.seqLen(), "min_nanos=" + budget.minNanos(),
                    "min_calls=" + budget.minCalls(), "max_calls=" + budget.maxCalls(),
                    "block_nanos=" + budget.blockNanos(), "settle_millis=" + SETTLE_MILLIS) + "\n";
            Files.writeString(dir.resolve(row.name() + ".properties"), props);
            writeRaw(dir.resolve(row.name() + ".input"), input);
            for (Map.Entry<String, Tensor> e : weights.asMap().entrySet()) {
                writeRaw(dir.resolve(row.name() + "." + e.getKey()), e.getValue());
            }
            if (ref != null) {
                writeRaw(dir.resolve(row.name() + ".reference"), ref.output());
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
     * Runs the DJL peer in its own JVM (two LibTorch versions must never share a process) on the rows
     * written before, after lstm4j's own timings, and adds its lines to the table and the CSV.
     */
    private void runPeers(Path dir, List<BenchmarkRow> rows, String format, double peak, Map<String, Double> libtorchMs,
            Map<String, Double> nativeMs, BufferedWriter csvOut) {
        String cp = System.getProperty("lstm4j.peers.djl.classpath",
                "peers/djl/target/classes" + java.io.File.pathSeparator + "peers/djl/target/lib/*");
        if (!Files.isDirectory(Path.of(cp.split(java.io.File.pathSeparator)[0]))) {
            out.println("not available: DJL: the peer is not built (./lstm4j bench --peers builds peers/djl with Maven)");
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", cp, "dev.lstm4j.peers.DjlPeer", dir.toString()));
        rows.forEach(r -> cmd.add(r.name()));
        out.printf("%npeer DJL %s (ai.djl.pytorch 0.35.1, PyTorch 2.7.1 CPU), in its own JVM after the rows above; "
                + "same weights and input, same blocks of calls after %d ms pauses:%n", "0.35.1", SETTLE_MILLIS);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor();
            Map<String, BenchmarkRow> byName = new LinkedHashMap<>();
            rows.forEach(r -> byName.put(r.name(), r));
            boolean any = false;
            for (String line : output.lines().toList()) {
                if (!line.startsWith("peer DJL ")) {
                    continue;
                }
                any = true;
                String[] f = line.split(" ", 5);
                String name = f[2];
                BenchmarkRow row = byName.get(name);
                if (f[3].equals("median_ms")) {
                    String[] g = line.split(" ");
                    double ms = Double.parseDouble(g[4]);
                    Double lt = libtorchMs.get(name);
                    String ratio = lt == null ? "n/a" : String.format(Locale.ROOT, "%.3f", ms / lt);
                    double gflops = row.flops() / (ms * 1e6);
                    out.printf(format, name, "DJL", "cpu", String.format(Locale.ROOT, "%.4f", ms),
                            String.format(Locale.ROOT, "%.1f", gflops),
                            Double.isNaN(peak) ? "n/a" : String.format(Locale.ROOT, "%.1f", 100 * gflops / peak), ratio,
                            g.length > 6 ? g[6] : "n/a");
                    Double nat = nativeMs.get(name);
                    if (nat != null) {
                        out.printf(Locale.ROOT, "%-28s NATIVE / DJL = %.3f%n", "", nat / ms);
                    }
                    if (csvOut != null) {
                        writeCsv(csvOut, csvLine(name, "DJL", "cpu", String.format(Locale.ROOT, "%.4f", ms), gflops,
                                peak, ratio, g.length > 6 ? g[6] : "n/a", ""));
                    }
                } else {
                    String why = line.substring(("peer DJL " + name + " ").length());
                    out.printf("%-28s DJL       %s%n", name, why);
                    if (csvOut != null) {
                        writeCsv(csvOut, csvLine(name, "DJL", "cpu", "", Double.NaN, peak, "", "", why));
                    }
                }
            }
            if (!any) {
                out.println("not available: DJL: the peer printed no result: "
                        + output.lines().reduce((a, b) -> b).orElse("(nothing)"));
            }
        } catch (IOException e) {
            out.println("not available: DJL: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long min(long[] a) {
        long m = Long.MAX_VALUE;
        for (long v : a) {
            m = Math.min(m, v);
        }
        return m;
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

    private static String value(String[] args, int i) {
        if (i + 1 >= args.length) {
            throw new Main.UsageException(args[i] + " needs a value");
        }
        return args[i + 1];
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
