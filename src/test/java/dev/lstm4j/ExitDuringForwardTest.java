package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 13 item 11: ending the JVM (System.exit, or SIGTERM as Ctrl-C or a container stop sends it)
 * while other threads run forward passes ends it cleanly on every backend; LIBTORCH crashed in
 * libtorch_cpu (SIGSEGV, an hs_err file) as the process's static destructors ran under its
 * forward. Each case in its own JVM: the exit code is the one asked for, no hs_err file appears.
 */
class ExitDuringForwardTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"LIBTORCH,exit,3", "LIBTORCH,term,143", "NATIVE,term,143", "JAVA,exit,3"})
    void exitsCleanlyDuringForwardPasses(Backend backend, String how, int code) throws Exception {
        List<String> cmd = ForkedJvm.command(List.of("-Xss4m", "-Dorg.bytedeco.javacpp.cachedir=" + tmp.resolve("cache")),
                ExitDuringForwardProbe.class, backend.name(), how);
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null;) {
                    synchronized (out) {
                        out.append(line).append('\n');
                        out.notifyAll();
                    }
                }
            } catch (IOException e) {
                synchronized (out) {
                    out.append(e);
                }
            }
        });
        reader.start();
        if (how.equals("term")) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            synchronized (out) {
                while (out.indexOf("running") < 0 && p.isAlive() && System.nanoTime() < deadline) {
                    out.wait(100);
                }
            }
            p.destroy(); // SIGTERM
        }
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        reader.join();
        assertTrue(ended, "the JVM did not end: " + out);
        try (Stream<Path> files = Files.list(tmp)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("hs_err")), "the JVM crashed: " + out);
        }
        assertTrue(out.indexOf("running") >= 0, out.toString());
        assertEquals(code, p.exitValue(), out.toString());
    }
}
