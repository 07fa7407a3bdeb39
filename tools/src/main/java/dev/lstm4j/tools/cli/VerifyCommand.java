package dev.lstm4j.tools.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.io.Safetensors;
import dev.lstm4j.nativ.binding.NativeLstm;
import dev.lstm4j.tools.golden.GoldenCase;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lstm4j verify [--backend B] [--device D] [--precision P] FILE...}: one line
 * {@code NAME max_abs_err=E PASS|FAIL} per case, then {@code N passed, M failed}. With
 * {@code --precision bfloat16|float16} the float32 LSTM cases run in that precision, within
 * the bound of {@link GoldenCase#tolerance(Precision)} (and, with {@code --torch16}, within twice
 * it of PyTorch's own result in that precision), and the others are listed as skipped. A file that is missing,
 * truncated or malformed, or whose data does not fit its metadata, gets one line on stderr naming the
 * file and the problem, and the other files still run. Exit 0 if all pass, 1 if any fails, 2 if a file
 * was bad or the backend/device cannot run here.
 */
@Command(name = "verify", sortOptions = false,
        description = {"Run golden-format case files and check them against PyTorch's float64 results.",
            "One line per case (NAME max_abs_err=E PASS|FAIL), then 'N passed, M failed'; a bad file gets one line on "
                + "stderr naming it and the problem, and the other files still run. Exit 0 only if all pass, 1 if "
                + "one fails, 2 for a bad file or a backend/device that cannot run here."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "native|libtorch|java", converter = Converters.BackendConverter.class,
            description = "backend (default: native)")
    Backend backend = Backend.NATIVE;

    @Option(names = "--device", paramLabel = "cpu|cuda:N", converter = Converters.DeviceConverter.class,
            description = "device (default: cpu)")
    Device device = Device.cpu();

    @Option(names = "--torch16", paramLabel = "DIR",
            description = "with --precision bfloat16|float16: also compare with PyTorch's own result in that "
                    + "precision, DIR/<case>__<precision>.safetensors (scripts/torch16_case.py)")
    Path torch16;

    @Option(names = "--precision", paramLabel = "P", converter = Converters.PrecisionConverter.class,
            description = "bfloat16|float16: the float32 LSTM cases in 16 bits (default: full)")
    Precision precision = Precision.FULL;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "golden case files (.safetensors)")
    List<Path> files;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // The backend and device first, on a model of one unit: when they cannot run here, no case can,
        // and a case's own failure below is then that case's.
        try {
            probe(backend, device, precision);
        } catch (IllegalStateException | IllegalArgumentException ex) {
            err.println("lstm4j verify: " + ex.getMessage());
            return Main.BAD_INPUT;
        }
        if (backend == Backend.NATIVE && !device.isCpu()) {
            // Which cell the device scan runs there (the GPU check reports it before any case).
            out.println("cell path on " + device + ": " + NativeLstm.cuda_cell_path(device.index()));
        }
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        boolean badInput = false;
        for (Path file : files) {
            GoldenCase c;
            try {
                c = GoldenCase.load(CliFiles.readable(file));
            } catch (IOException e) {
                err.println(fileMessage(file, Main.describe(e)));
                badInput = true;
                continue;
            }
            if (!c.supports(precision)) {
                out.printf("%s SKIP (%s runs float32 LSTM cases)%n", c.name(), precision);
                skipped++;
                continue;
            }
            double e;
            double vsTorch = Double.NaN;
            try {
                Path ref = torch16 == null ? null : torch16.resolve(c.name() + "__" + precision + ".safetensors");
                if (ref != null && precision != Precision.FULL && Files.isRegularFile(ref)) {
                    double[] both = c.runAgainst(backend, device, precision, Safetensors.read(ref));
                    e = both[0];
                    vsTorch = both[1];
                } else {
                    e = c.run(backend, device, precision);
                }
            } catch (IOException ex) {
                err.println(fileMessage(file, "its PyTorch " + precision + " result: " + Main.describe(ex)));
                badInput = true;
                continue;
            } catch (IllegalStateException | IllegalArgumentException ex) {
                // The backend ran the probe, so this is the case: its tensors do not fit its metadata.
                err.println(fileMessage(file, "does not fit its metadata: " + ex.getMessage()));
                badInput = true;
                continue;
            }
            // Against PyTorch's own result in the same precision: both are within the truth bound of the
            // truth, so within twice it of each other.
            boolean ok = e <= c.tolerance(precision) && !(vsTorch > 2 * c.tolerance(precision));
            if (Double.isNaN(vsTorch)) {
                out.printf("%s max_abs_err=%.3e %s%n", c.name(), e, ok ? "PASS" : "FAIL");
            } else {
                out.printf("%s max_abs_err=%.3e vs_torch_%s=%.3e %s%n", c.name(), e, precision, vsTorch,
                        ok ? "PASS" : "FAIL");
            }
            if (ok) {
                passed++;
            } else {
                failed++;
            }
        }
        out.printf("%d passed, %d failed%s%n", passed, failed, skipped > 0 ? ", " + skipped + " skipped" : "");
        return badInput ? Main.BAD_INPUT : failed > 0 ? Main.CHECK_FAILED : Main.OK;
    }

    /** "FILE: problem", once: readers' messages already start with the file. */
    private static String fileMessage(Path file, String problem) {
        return problem.startsWith(file.toString()) ? problem : file + ": " + problem;
    }

    /**
     * Creates and runs a one-unit LSTM on {@code backend} / {@code device} in {@code precision}; throws if
     * they cannot run here.
     */
    static void probe(Backend backend, Device device, Precision precision) {
        LstmConfig config = LstmConfig.builder(1, 1).precision(precision).build();
        Map<String, Tensor> w = new LinkedHashMap<>();
        config.parameterShapes().forEach((n, shape) -> w.put(n, Tensor.zeros(config.dtype(), shape)));
        try (Lstm lstm = Lstm.create(config, StateDict.of(w), backend, device)) {
            lstm.forward(Tensor.zeros(config.dtype(), 1, 1, 1));
        }
    }
}
