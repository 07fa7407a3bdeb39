package dev.lstm4j.tools.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A noisy neighbour for {@code lstm4j bench --busy-core}: a separate process ({@link #main}) that keeps one
 * core busy with a spinning thread while the bench times. A process of its own, not a thread of the bench's
 * JVM, so that it competes alike with lstm4j's threads and with the peers' JVMs, and the operating system
 * schedules it as it would another tenant. It ends when the bench closes it, and by itself when the bench's
 * pipe to it closes (the bench was killed), so that it never outlives a run. The bench can {@link #pause} it
 * and {@link #resume} it, to time each row with and without the busy core in the same run.
 */
public final class BusyCore implements AutoCloseable {
    private final Process process;

    private BusyCore(Process process) {
        this.process = process;
    }

    /** Starts the spinning process on this JVM's class path; returns once it runs. */
    public static BusyCore start() throws IOException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xint",
                "-Xmx16m", "-cp", System.getProperty("java.class.path"), BusyCore.class.getName());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        InputStream started = p.getInputStream();
        if (started.read() != 's') { // it says so once its spinning thread runs
            p.destroyForcibly();
            throw new IOException("the busy-core process did not start (exit code "
                    + (p.isAlive() ? "n/a" : p.exitValue()) + ")");
        }
        return new BusyCore(p);
    }

    /** Stops the spinning until {@link #resume}; returns once the spinner has stopped. */
    public void pause() throws IOException {
        command('p');
    }

    /** Spins again; returns once the spinner runs. */
    public void resume() throws IOException {
        command('r');
    }

    private void command(char c) throws IOException {
        process.getOutputStream().write(c);
        process.getOutputStream().flush();
        if (process.getInputStream().read() != c) {
            throw new IOException("the busy-core process did not answer (" + (process.isAlive() ? "running" : "gone")
                    + ")");
        }
    }

    /** What the bench prints about it. */
    public String describe() {
        return "one extra process (pid " + process.pid() + ") spinning on one core while timing; each row is timed "
                + "with it paused first, then with it, and the slowdown printed at the end";
    }

    /** Whether the process still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static volatile boolean paused;
    private static volatile boolean spinning;

    /**
     * Spins one thread until standard input closes; {@code p} on standard input pauses it, {@code r} resumes it,
     * each answered with the same byte once done.
     */
    public static void main(String[] args) throws IOException, InterruptedException {
        Thread spinner = new Thread(() -> {
            // -Xint: an interpreted loop, so that no JIT compiler thread takes a second core for it.
            long n = 0;
            while (true) {
                if (paused) {
                    spinning = false;
                    while (paused) {
                        java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
                    }
                }
                spinning = true;
                n++;
                if (n == Long.MIN_VALUE) {
                    System.out.print("");
                }
            }
        }, "busy-core");
        spinner.setDaemon(true);
        spinner.start();
        System.out.write('s');
        System.out.flush();
        for (int c; (c = System.in.read()) >= 0;) { // end of input: the bench is gone
            if (c == 'p' || c == 'r') {
                paused = c == 'p';
                while (spinning == paused) {
                    Thread.sleep(1);
                }
                System.out.write(c);
                System.out.flush();
            }
        }
        System.exit(0);
    }
}
