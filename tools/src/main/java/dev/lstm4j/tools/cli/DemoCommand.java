package dev.lstm4j.tools.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;
import dev.lstm4j.tools.golden.GoldenCase;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code lstm4j demo}: runs the built-in model (a 2-layer LSTM with PyTorch's own results for one
 * input) on every available backend and prints how each agrees with PyTorch and with LibTorch,
 * and its median time.
 */
@Command(name = "demo", description = {"Run the built-in model on every available backend.",
    "The model is a 2-layer LSTM with PyTorch's own results; per backend: the largest difference to PyTorch's "
        + "float64 result and to LibTorch's lstm, and the median time per forward pass. Exit 0 if every backend is "
        + "within tolerance, 1 if one is not."})
final class DemoCommand implements Callable<Integer> {
    static final String MODEL_RESOURCE = "/dev/lstm4j/tools/demo/demo_lstm.safetensors";
    private static final int WARMUP = 5;
    /** At least this long of warm-up calls per backend: the JIT compiles the JAVA engine's kernels. */
    private static final long WARMUP_NANOS = 500_000_000L;
    private static final int RUNS = 30;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        GoldenCase model = loadModel();
        LstmConfig config = model.lstmConfig();
        Tensor input = model.tensor("input");
        out.println("lstm4j demo: " + config + ", input " + Arrays.toString(input.shape()) + " ("
                + model.dtype() + "), expected results computed by PyTorch " + "in float64");
        Map<Backend, LstmOutput> results = new LinkedHashMap<>();
        Map<Backend, Double> medians = new LinkedHashMap<>();
        List<String> unavailable = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        RuntimeException failure = null;
        for (Backend b : Backend.values()) {
            try (Lstm lstm = Lstm.create(config, model.weights(), b, Device.cpu())) {
                LstmOutput o = lstm.forward(input);
                long warmStart = System.nanoTime();
                for (int i = 0; i < WARMUP || System.nanoTime() - warmStart < WARMUP_NANOS; i++) {
                    lstm.forward(input);
                }
                double[] times = new double[RUNS];
                for (int i = 0; i < RUNS; i++) {
                    long t0 = System.nanoTime();
                    lstm.forward(input);
                    times[i] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(times);
                results.put(b, o);
                medians.put(b, times[RUNS / 2]);
            } catch (IllegalStateException | LinkageError e) {
                // Not built here, or its native library cannot be loaded (e.g. a broken -Dlstm4j.libtorch.dir):
                // the other backends still run.
                unavailable.add(b + ": " + Main.describe(e));
            } catch (RuntimeException e) {
                // A backend that fails on the built-in model: said in one line, the others still run, and the
                // exit code tells (a NullPointerException and the like is a bug: its trace with --debug).
                failed.add(b + ": " + Main.describe(e));
                failure = failure == null ? e : failure;
            }
        }
        LstmOutput reference = results.get(Backend.LIBTORCH);
        Double refTime = medians.get(Backend.LIBTORCH);
        out.printf("%n%-9s %-6s %-22s %-22s %12s %14s%n", "backend", "device", "max |err| vs PyTorch",
                "max |diff| vs LibTorch", "median ms", "vs LIBTORCH");
        boolean allOk = true;
        for (Map.Entry<Backend, LstmOutput> e : results.entrySet()) {
            LstmOutput o = e.getValue();
            double vsTruth = Math.max(o.output().maxAbsDiff(model.tensor("output")),
                    Math.max(o.hN().maxAbsDiff(model.tensor("h_n")), o.cN().maxAbsDiff(model.tensor("c_n"))));
            String vsRef = reference == null ? "n/a" : String.format("%.3e", Math.max(
                    o.output().maxAbsDiff(reference.output()), o.hN().maxAbsDiff(reference.hN())));
            double ms = medians.get(e.getKey());
            String ratio = refTime == null ? "n/a" : String.format("%.2fx time", ms / refTime);
            allOk &= vsTruth <= model.tolerance();
            out.printf("%-9s %-6s %-22s %-22s %12.3f %14s%n", e.getKey(), "cpu", String.format("%.3e %s", vsTruth,
                    vsTruth <= model.tolerance() ? "PASS" : "FAIL"), vsRef, ms, ratio);
        }
        for (String u : unavailable) {
            out.println("not available: " + u);
        }
        for (String f : failed) {
            out.println("failed: " + f);
        }
        out.printf("%nmedian of %d runs after %.1f s of warm-up runs; tolerance vs PyTorch %.0e (max abs)%n", RUNS,
                WARMUP_NANOS / 1e9, model.tolerance());
        if (failure != null) {
            int code = Main.exitCode(failure);
            if (code == Main.INTERNAL_ERROR || spec.commandLine().getParseResult().hasMatchedOption("--debug")) {
                failure.printStackTrace(spec.commandLine().getErr());
            }
            return code;
        }
        if (results.isEmpty()) {
            spec.commandLine().getErr().println("lstm4j demo: no backend can run here");
            return Main.BAD_INPUT;
        }
        return allOk ? Main.OK : Main.CHECK_FAILED;
    }

    private static GoldenCase loadModel() throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream(MODEL_RESOURCE)) {
            if (in == null) {
                throw new IOException("built-in model " + MODEL_RESOURCE + " is missing from the tools jar");
            }
            Path tmp = Files.createTempFile("lstm4j-demo", ".safetensors");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                return GoldenCase.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
