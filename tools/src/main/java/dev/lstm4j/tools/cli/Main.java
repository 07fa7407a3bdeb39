package dev.lstm4j.tools.cli;

import dev.lstm4j.tools.bench.BenchmarkRow;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The {@code lstm4j} command line: {@code demo}, {@code verify}, {@code bench}, {@code inspect} and {@code run}. Run through the {@code ./lstm4j}
 * launcher at the repository root.
 */
public final class Main {
    static final String USAGE = String.join(System.lineSeparator(),
            "usage: lstm4j COMMAND [ARGS]",
            "",
            "commands:",
            "  demo                                  run the built-in model on every available backend and",
            "                                        print the agreement and timing of each",
            "  verify [--backend native|libtorch|java] [--device cpu|cuda:N] [--precision P] FILE...",
            "                                        run golden-format case files and check them against",
            "                                        PyTorch's float64 results; exit 0 only if all pass;",
            "                                        --precision bfloat16|float16: float32 LSTM cases in 16 bits",
            "  bench [--quick] [--rows NAME,...] [--backends B,...] [--device D] [--peers] [--csv FILE]",
            "                                        time float32 forward passes (cpu by default) of the rows below on every",
            "                                        available backend: median ms, ratio and max abs diff to",
            "                                        LIBTORCH; --quick: a much smaller time budget; --csv FILE:",
            "                                        also write config,backend,device,median_ms,ratio_vs_libtorch;",
            "                                        --peers: also DJL 0.35.1 in its own JVM (peers/djl)",
            "                                        rows: " + BenchmarkRow.all().stream().map(BenchmarkRow::toString)
                    .collect(Collectors.joining(System.lineSeparator() + " ".repeat(46))),
            "  inspect MODEL [--prefix P]            the tensors of a .pt or .safetensors state_dict and the",
            "                                        LSTM configuration they imply",
            "  run --weights MODEL [--prefix P] --input IN.safetensors [--lengths] [--batch-first]",
            "      [--backend B] [--device D] --out OUT.safetensors",
            "                                        one forward pass: IN holds input (and h0, c0, lengths),",
            "                                        OUT gets output, h_n, c_n",
            "  help                                  this text");

    private Main() {
    }

    /** Entry point; exits with the command's status. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs one command.
     *
     * @return the exit status: 0 success, 1 a check failed, 2 bad usage or input
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println(USAGE);
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (args[0]) {
                case "demo":
                    return new DemoCommand(out, err).run(rest);
                case "verify":
                    return new VerifyCommand(out, err).run(rest);
                case "bench":
                    return new BenchCommand(out, err).run(rest);
                case "inspect":
                    return new ModelCommands(out, err).inspect(rest);
                case "run":
                    return new ModelCommands(out, err).run(rest);
                case "help":
                case "--help":
                case "-h":
                    out.println(USAGE);
                    return 0;
                default:
                    err.println("lstm4j: unknown command '" + args[0] + "'");
                    err.println(USAGE);
                    return 2;
            }
        } catch (UsageException e) {
            err.println("lstm4j " + args[0] + ": " + e.getMessage());
            return 2;
        }
    }

    /** Bad command-line arguments; the message says which. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
