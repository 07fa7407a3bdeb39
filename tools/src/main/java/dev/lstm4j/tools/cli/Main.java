package dev.lstm4j.tools.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code lstm4j} command line: {@code demo}, {@code verify}, {@code bench}, {@code inspect}, {@code run}
 * and {@code help}, one picocli command class each. Run through the {@code ./lstm4j} launcher at the
 * repository root.
 *
 * <p>Exit codes, the same for every command: {@value #OK} success; {@value #CHECK_FAILED} a check failed
 * (a case beyond its tolerance, a backend disagreeing with LIBTORCH); {@value #BAD_INPUT} bad usage or
 * input (an unknown option, a missing, unreadable or malformed file, a backend or device that cannot run
 * here), with one line naming the problem; {@value #RUN_FAILED} the run itself failed (out of memory, a
 * native library that cannot be loaded, a failure inside LibTorch), with one line saying why;
 * {@value #INTERNAL_ERROR} an internal error (a bug), with its stack trace. {@code --debug} prints the
 * stack trace of every failure.
 */
@Command(name = "lstm4j", synopsisSubcommandLabel = "COMMAND",
        description = "PyTorch-exact LSTM forward passes on the JVM: check, time and run models.",
        subcommands = {DemoCommand.class, VerifyCommand.class, BenchCommand.class, InspectCommand.class,
            RunCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 success, 1 a check failed, 2 bad usage or input, 3 the run failed (out of memory, "
            + "native library, LibTorch), 4 internal error (a bug; its stack trace is printed). --debug prints the "
            + "stack trace of any failure. 'lstm4j help COMMAND' shows a command's options."})
public final class Main implements Callable<Integer> {
    /** Exit code: success. */
    public static final int OK = 0;
    /** Exit code: a check failed. */
    public static final int CHECK_FAILED = 1;
    /** Exit code: bad usage or input. */
    public static final int BAD_INPUT = 2;
    /** Exit code: the run failed for a reason other than its input (memory, native code). */
    public static final int RUN_FAILED = 3;
    /** Exit code: an internal error. */
    public static final int INTERNAL_ERROR = 4;

    @Spec
    CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "print the stack trace of any failure")
    boolean debug;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    boolean help;

    private Main() {
    }

    @Override
    public Integer call() {
        // No command: the usage, as an error.
        spec.commandLine().usage(spec.commandLine().getErr());
        return BAD_INPUT;
    }

    /** Entry point; exits with the command's status. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs one command.
     *
     * @return the exit status (see the class comment)
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(err, true);
        try {
            return execute(commandLine(o, e), args);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /**
     * Runs {@code args} on {@code cl}. picocli hands exceptions to {@link #failure}; errors a command can
     * meet without a bug (out of memory, a native library that cannot be loaded) pass through picocli and
     * are answered here the same way.
     */
    static int execute(CommandLine cl, String[] args) {
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError | LinkageError e) {
            CommandLine failed = cl;
            ParseResult parsed = cl.getParseResult();
            for (ParseResult p = parsed; p != null && p.subcommand() != null; p = p.subcommand()) {
                failed = p.subcommand().commandSpec().commandLine();
            }
            return failure(e, failed, parsed);
        }
    }

    /** The command line, writing to {@code out} and {@code err}. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.getSubcommands().forEach((name, sub) -> {
            if (!name.equals("help")) {
                sub.getCommandSpec().addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                        .description("show this help").build());
            }
        });
        cl.getSubcommands().get("bench").getCommandSpec().usageMessage().footer(BenchCommand.rowsFooter());
        return configure(cl, out, err);
    }

    /**
     * Streams, help width and the handlers that give every failure its one line and exit code, on
     * {@code cl} and the subcommands it already has.
     */
    static CommandLine configure(CommandLine cl, PrintWriter out, PrintWriter err) {
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpWidth(100);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> failure(ex, line, parsed));
        return cl;
    }

    private static int usageError(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(prefix(cl) + ex.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
            err.println("(lstm4j help" + (cl.getParent() != null ? " " + cl.getCommandName() : "") + " shows the usage)");
        }
        return BAD_INPUT;
    }

    private static String prefix(CommandLine cl) {
        return cl.getParent() != null ? "lstm4j " + cl.getCommandName() + ": " : "lstm4j: ";
    }

    /** A failure that escaped a command: one line with a documented code, a stack trace only for bugs or --debug. */
    private static int failure(Throwable ex, CommandLine cl, ParseResult parsed) {
        Throwable t = ex instanceof UncheckedIOException && ex.getCause() != null ? ex.getCause() : ex;
        int code = exitCode(t);
        PrintWriter err = cl.getErr();
        if (code == INTERNAL_ERROR) {
            err.println(prefix(cl) + "internal error (a bug, please report it): " + t);
        } else {
            err.println(prefix(cl) + describe(t));
        }
        if (code == INTERNAL_ERROR || debug(parsed)) {
            t.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    private static boolean debug(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    /** One line for a failure of the user's input or of the run. */
    static String describe(Throwable t) {
        if (t instanceof NoSuchFileException) {
            NoSuchFileException n = (NoSuchFileException) t;
            return n.getFile() + ": " + (n.getReason() != null ? n.getReason() : "no such file");
        }
        if (t instanceof AccessDeniedException) {
            return ((AccessDeniedException) t).getFile() + ": permission denied";
        }
        if (t instanceof OutOfMemoryError) {
            return "out of memory: " + t.getMessage() + " (the JVM's heap is set by -Xmx, e.g. LSTM4J_JAVA_OPTS=-Xmx8g)";
        }
        if (t instanceof LinkageError) {
            return "a native library cannot be loaded: " + t.getMessage();
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.toString() : m;
    }

    /** The exit code of a failure (see the class comment). */
    static int exitCode(Throwable t) {
        if (t instanceof UsageException || t instanceof ParameterException || t instanceof IllegalArgumentException
                || t instanceof IllegalStateException || t instanceof IOException
                || t instanceof UncheckedIOException) {
            // IllegalStateException: the backend or device cannot run here (not built, no CUDA, closed).
            return BAD_INPUT;
        }
        if (t instanceof OutOfMemoryError || t instanceof LinkageError || isNativeFailure(t)) {
            return RUN_FAILED;
        }
        return INTERNAL_ERROR;
    }

    /**
     * A failure of the run reported by the library or its native code: JavaCPP turns a C++ exception into a
     * plain RuntimeException, and the library's own runtime exceptions (other than IllegalArgument/State)
     * are documented failures such as a failed native allocation. Any other exception is a bug.
     */
    private static boolean isNativeFailure(Throwable t) {
        return t.getClass() == RuntimeException.class
                || t instanceof RuntimeException && t.getClass().getName().startsWith("dev.lstm4j.");
    }

    /** Bad command-line arguments a command finds after parsing; the message says which. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
