package dev.lstm4j.libtorch;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Keeps LibTorch calls and the JVM's exit apart. When the JVM ends (System.exit, or SIGTERM from
 * Ctrl-C or a container stop) while another thread is inside LibTorch, the C library's exit runs
 * LibTorch's static destructors under that call, which crashed the JVM (SIGSEGV in libtorch_cpu).
 * A shutdown hook therefore waits for the calls in flight (at most {@link #DRAIN_SECONDS}) and lets
 * no new one start; a thread that tries then waits until the JVM is gone (or, past the same limit, is
 * refused), so the exit is clean and nothing is printed.
 *
 * <p>Process-wide by nature: there is one exit, and one LibTorch in the process.
 */
final class ExitGuard {
    /** How long the exit waits for LibTorch calls in flight before it goes on regardless. */
    static final long DRAIN_SECONDS = 60;

    private static final Object LOCK = new Object();
    private static int inFlight;
    private static boolean exiting;

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(ExitGuard::drain, "lstm4j-libtorch-exit"));
        } catch (IllegalStateException e) {
            exiting = true; // first used while the JVM is already ending
        }
    }

    private ExitGuard() {
    }

    /** Runs {@code call} unless the JVM is ending; the exit waits for it. */
    static <R> R call(Supplier<R> call) {
        enter();
        try {
            return call.get();
        } finally {
            leave();
        }
    }

    /** {@link #call} without a result. */
    static void run(Runnable call) {
        call(() -> {
            call.run();
            return null;
        });
    }

    private static void enter() {
        synchronized (LOCK) {
            if (exiting) {
                // The JVM is ending: wait for the end. A shutdown hook that calls LibTorch must not
                // hold the exit up forever, so past the drain limit it is refused instead.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
                for (long left; (left = deadline - System.nanoTime()) > 0;) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(LOCK, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                throw new IllegalStateException("the JVM is shutting down: LibTorch takes no new calls");
            }
            inFlight++;
        }
    }

    private static void leave() {
        synchronized (LOCK) {
            if (--inFlight == 0) {
                LOCK.notifyAll();
            }
        }
    }

    private static void drain() {
        synchronized (LOCK) {
            exiting = true;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
            for (long left; inFlight > 0 && (left = deadline - System.nanoTime()) > 0;) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(LOCK, left);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
