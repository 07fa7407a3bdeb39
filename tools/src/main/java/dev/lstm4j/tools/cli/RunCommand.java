package dev.lstm4j.tools.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.io.InvalidFileException;
import dev.lstm4j.io.Safetensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lstm4j run --weights MODEL [--prefix P] --input IN [--lengths] [--batch-first] [--backend B]
 * [--device D] --out OUT}: one forward pass from a safetensors file holding {@code input} (and
 * optionally {@code h0}, {@code c0}, {@code lengths}) to one holding {@code output}, {@code h_n},
 * {@code c_n}. {@code OUT} may not be {@code MODEL} or {@code IN} (compared as files, through links and
 * relative paths); it is written to a temporary file in its folder and renamed, so a failed run leaves
 * no half-written file and an existing {@code OUT} as it was. Exit 0 on success, 2 on bad usage or
 * input (one line saying what).
 */
@Command(name = "run", sortOptions = false, description = {"One forward pass from a file to a file.",
    "IN holds input (and optionally h0, c0, lengths); OUT gets output, h_n, c_n. OUT may not be MODEL or IN; it "
        + "is replaced only by a complete result. Exit 0 on success, 2 for bad usage or input."})
final class RunCommand implements Callable<Integer> {
    /** Inputs taking longer than this get a progress line on stderr. */
    private static final long PROGRESS_AFTER_NANOS = 1_000_000_000L;

    @Spec
    CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "MODEL", description = "a .pt or .safetensors state_dict")
    Path weightsFile;

    @Option(names = "--prefix", paramLabel = "P", description = "the LSTM's prefix in a larger model, e.g. encoder.")
    String prefix = "";

    @Option(names = "--input", required = true, paramLabel = "IN.safetensors",
            description = "holds input, and optionally h0, c0, lengths")
    Path inputFile;

    @Option(names = "--lengths", description = "use IN's I64 tensor lengths (pack_padded_sequence semantics)")
    boolean useLengths;

    @Option(names = "--batch-first", description = "input is (batch, seq, feature)")
    boolean batchFirst;

    @Option(names = "--backend", paramLabel = "native|libtorch|java", converter = Converters.BackendConverter.class,
            description = "backend (default: native)")
    Backend backend = Backend.NATIVE;

    @Option(names = "--device", paramLabel = "cpu|cuda:N", converter = Converters.DeviceConverter.class,
            description = "device (default: cpu)")
    Device device = Device.cpu();

    @Option(names = "--out", required = true, paramLabel = "OUT.safetensors", description = "gets output, h_n, c_n")
    Path outFile;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CliFiles.readable(weightsFile);
        CliFiles.readable(inputFile);
        // Before any work: the result must never replace what it was computed from.
        for (Path source : new Path[] {weightsFile, inputFile}) {
            if (CliFiles.sameFile(outFile, source)) {
                throw new Main.UsageException("--out " + outFile + " is the same file as " + (source == weightsFile
                        ? "--weights " : "--input ") + source + "; choose another output file");
            }
        }
        if (java.nio.file.Files.isDirectory(outFile)) {
            throw new InvalidFileException(outFile, "is a directory, expected a file (--out)");
        }
        StateDict weights;
        try {
            weights = StateDict.load(weightsFile).withPrefix(prefix);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weightsFile + ": " + e.getMessage(), e);
        }
        Safetensors.Contents in = Safetensors.read(inputFile);
        Tensor input = in.tensors().get("input");
        if (input == null) {
            throw new InvalidFileException(inputFile, "no tensor 'input'");
        }
        int[] lengths = null;
        if (useLengths) {
            long[] l = in.int64Tensors().get("lengths");
            if (l == null) {
                throw new InvalidFileException(inputFile, "--lengths given but no I64 tensor 'lengths'");
            }
            lengths = Arrays.stream(l).mapToInt(v -> (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)))
                    .toArray();
        }
        long start = System.nanoTime();
        LstmOutput result;
        LstmConfig config;
        try {
            config = LstmConfig.inferFrom(weights).batchFirst(batchFirst).dtype(input.dtype()).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weightsFile + ": " + e.getMessage(), e);
        }
        try (Lstm lstm = Lstm.create(config, weights.withDtype(input.dtype()), backend, device)) {
            Progress progress = new Progress(err, start);
            progress.start();
            try {
                result = lengths != null ? lstm.forward(input, lengths, in.tensors().get("h0"), in.tensors().get("c0"))
                        : lstm.forward(input, in.tensors().get("h0"), in.tensors().get("c0"));
            } finally {
                progress.finish();
            }
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("output", result.output());
        outputs.put("h_n", result.hN());
        outputs.put("c_n", result.cN());
        Map<String, String> meta = Map.of("backend", backend.name(), "device", device.toString());
        CliFiles.writeAtomically(outFile, tmp -> Safetensors.write(tmp, outputs, meta));
        out.printf(Locale.ROOT, "%s -> %s: output %s, h_n %s, c_n %s on %s %s in %.1f ms%n", inputFile, outFile,
                Arrays.toString(result.output().shape()), Arrays.toString(result.hN().shape()),
                Arrays.toString(result.cN().shape()), backend, device, (System.nanoTime() - start) / 1e6);
        return Main.OK;
    }

    /** A progress line on stderr for forwards that take more than a second: elapsed time, updated. */
    private static final class Progress {
        private final PrintWriter err;
        private final long start;
        private Thread thread;
        private volatile boolean printed;

        Progress(PrintWriter err, long start) {
            this.err = err;
            this.start = start;
        }

        void start() {
            thread = new Thread(() -> {
                try {
                    Thread.sleep(PROGRESS_AFTER_NANOS / 1_000_000);
                    String[] spin = {"|", "/", "-", "\\"};
                    for (int i = 0; ; i++) {
                        err.printf(Locale.ROOT, "\rlstm4j run: forward %s %.1f s", spin[i % 4],
                                (System.nanoTime() - start) / 1e9);
                        printed = true;
                        Thread.sleep(250);
                    }
                } catch (InterruptedException e) {
                    // done
                }
            }, "lstm4j-progress");
            thread.setDaemon(true);
            thread.start();
        }

        void finish() {
            thread.interrupt();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (printed) {
                err.printf(Locale.ROOT, "\rlstm4j run: forward done in %.1f s%n", (System.nanoTime() - start) / 1e9);
            }
        }
    }
}
