package dev.lstm4j.tools.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Helpers of the tools' tests: in-process runs of the command line, and the library's test files. */
final class CliSupport {
    private CliSupport() {
    }

    /** Exit code and output of one in-process run of the command line. */
    record CliRun(int code, String out, String err) {
    }

    /** Runs {@code lstm4j ARGS} in this JVM, capturing stdout and stderr. */
    static CliRun run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The library's test resources (golden cases, checkpoints): tools/pom.xml passes their folder. */
    static Path testResources() {
        String dir = System.getProperty("lstm4j.test.resources", "../src/test/resources");
        return Path.of(dir).toAbsolutePath().normalize();
    }

    static Path goldenDir() {
        return testResources().resolve("golden");
    }

    static Path checkpointDir() {
        return testResources().resolve("checkpoints");
    }

    /** Every golden case file, sorted. */
    static List<Path> goldenFiles() throws IOException {
        try (Stream<Path> s = Files.list(goldenDir())) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().collect(Collectors.toList());
        }
    }
}
