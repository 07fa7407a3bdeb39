package dev.lstm4j.tools.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.io.Safetensors;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code lstm4j inspect MODEL [--prefix P]}: the configuration a checkpoint implies and its tensors;
 * {@code lstm4j run --weights MODEL [--prefix P] --input IN [--lengths] [--batch-first] [--backend B]
 * [--device D] --out OUT}: one forward pass from a safetensors file holding {@code input} (and
 * optionally {@code h0}, {@code c0}, {@code lengths}) to one holding {@code output}, {@code h_n},
 * {@code c_n}. Exit 0 on success, 2 on bad usage or input (one line saying what).
 */
final class ModelCommands {
    /** Inputs taking longer than this get a progress line on stderr. */
    private static final long PROGRESS_AFTER_NANOS = 1_000_000_000L;

    private final PrintStream out;
    private final PrintStream err;

    ModelCommands(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    private static final class Options {
        final Map<String, String> values = new LinkedHashMap<>();
        final java.util.Set<String> flags = new java.util.HashSet<>();
        final java.util.List<String> positional = new java.util.ArrayList<>();

        Options(String[] args, java.util.Set<String> valued, java.util.Set<String> flagNames) {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (valued.contains(a)) {
                    if (i + 1 >= args.length) {
                        throw new Main.UsageException(a + " needs a value");
                    }
                    values.put(a, args[++i]);
                } else if (flagNames.contains(a)) {
                    flags.add(a);
                } else if (a.startsWith("--")) {
                    throw new Main.UsageException("unknown option " + a);
                } else {
                    positional.add(a);
                }
            }
        }

        String required(String name) {
            String v = values.get(name);
            if (v == null) {
                throw new Main.UsageException(name + " is required");
            }
            return v;
        }
    }

    int inspect(String[] args) {
        Options o = new Options(args, java.util.Set.of("--prefix"), java.util.Set.of());
        if (o.positional.size() != 1) {
            throw new Main.UsageException("expected one MODEL file, got " + o.positional.size());
        }
        Path model = Path.of(o.positional.get(0));
        StateDict all;
        try {
            all = StateDict.load(model);
        } catch (NoSuchFileException e) {
            err.println(model + ": no such file");
            return 2;
        } catch (IOException e) {
            err.println(e.getMessage());
            return 2;
        }
        out.printf("%s: %d tensors%n", model, all.asMap().size());
        all.asMap().forEach((k, v) -> out.printf("  %-40s %-8s %s%n", k, v.dtype(), Arrays.toString(v.shape())));
        try {
            StateDict w = all.withPrefix(o.values.getOrDefault("--prefix", ""));
            LstmConfig config = LstmConfig.inferFrom(w).build();
            out.println("inferred: " + config + " (batch_first is not recorded in a state_dict)");
        } catch (IllegalArgumentException e) {
            out.println("inferred: no LSTM (" + e.getMessage() + ")");
        }
        return 0;
    }

    int run(String[] args) {
        Options o = new Options(args, java.util.Set.of("--weights", "--prefix", "--input", "--backend", "--device",
                "--out"), java.util.Set.of("--lengths", "--batch-first"));
        if (!o.positional.isEmpty()) {
            throw new Main.UsageException("unexpected argument '" + o.positional.get(0) + "'");
        }
        Path weightsFile = Path.of(o.required("--weights"));
        Path inputFile = Path.of(o.required("--input"));
        Path outFile = Path.of(o.required("--out"));
        Backend backend;
        Device device;
        try {
            backend = Backend.parse(o.values.getOrDefault("--backend", "native"));
            device = Device.parse(o.values.getOrDefault("--device", "cpu"));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        StateDict weights;
        Safetensors.Contents in;
        try {
            weights = StateDict.load(weightsFile).withPrefix(o.values.getOrDefault("--prefix", ""));
            in = Safetensors.read(inputFile);
        } catch (NoSuchFileException e) {
            err.println(e.getFile() + ": no such file");
            return 2;
        } catch (IOException e) {
            err.println(e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("lstm4j run: " + weightsFile + ": " + e.getMessage());
            return 2;
        }
        Tensor input = in.tensors().get("input");
        if (input == null) {
            err.println(inputFile + ": no tensor 'input'");
            return 2;
        }
        int[] lengths = null;
        if (o.flags.contains("--lengths")) {
            long[] l = in.int64Tensors().get("lengths");
            if (l == null) {
                err.println(inputFile + ": --lengths given but no I64 tensor 'lengths'");
                return 2;
            }
            lengths = Arrays.stream(l).mapToInt(v -> (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)))
                    .toArray();
        }
        long start = System.nanoTime();
        LstmOutput result;
        try {
            LstmConfig config = LstmConfig.inferFrom(weights).batchFirst(o.flags.contains("--batch-first"))
                    .dtype(input.dtype()).build();
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
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("lstm4j run: " + e.getMessage());
            return 2;
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("output", result.output());
        outputs.put("h_n", result.hN());
        outputs.put("c_n", result.cN());
        try {
            Safetensors.write(outFile, outputs, Map.of("backend", backend.name(), "device", device.toString()));
        } catch (IOException e) {
            err.println("lstm4j run: cannot write " + outFile + ": " + e.getMessage());
            return 2;
        }
        out.printf(Locale.ROOT, "%s -> %s: output %s, h_n %s, c_n %s on %s %s in %.1f ms%n", inputFile, outFile,
                Arrays.toString(result.output().shape()), Arrays.toString(result.hN().shape()),
                Arrays.toString(result.cN().shape()), backend, device, (System.nanoTime() - start) / 1e6);
        return 0;
    }

    /** A progress line on stderr for forwards that take more than a second: elapsed time, updated. */
    private static final class Progress {
        private final PrintStream err;
        private final long start;
        private Thread thread;
        private volatile boolean printed;

        Progress(PrintStream err, long start) {
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
