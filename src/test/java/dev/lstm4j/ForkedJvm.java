package dev.lstm4j;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a main class of the test class path in a child JVM (for what one JVM can test only once: heap caps, exit). */
public final class ForkedJvm {
    private ForkedJvm() {
    }

    /** Exit code and combined stdout + stderr of a child JVM. */
    public record Result(int code, String out) {
    }

    /** A child JVM's command line: this JVM's java and class path, {@code jvmArgs}, the main class and {@code args}. */
    public static List<String> command(List<String> jvmArgs, Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Dorg.bytedeco.javacpp.platform.extension=");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs the child to its end (at most {@code timeoutSeconds}, then it is killed and the test fails). */
    public static Result run(List<String> cmd, File dir, long timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir);
        }
        Process p = pb.start();
        // Read on another thread: a child that fills the pipe must not block its own exit.
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append("(reading the child's output failed: ").append(e).append(')');
            }
        });
        reader.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            reader.join();
            throw new AssertionError("child JVM ran over " + timeoutSeconds + " s: " + out);
        }
        reader.join();
        return new Result(p.exitValue(), out.toString());
    }
}
