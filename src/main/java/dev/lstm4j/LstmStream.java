package dev.lstm4j;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One live stream of an {@link LstmStreamPool}: a call, a microphone, a sensor. Its recurrent state
 * lives in the pool; {@link #submit(Tensor)} queues a frame (one time step, or a short chunk of steps)
 * and returns its output asynchronously. Frames of one stream run in the order they were submitted,
 * each from the state the previous one left, so a stream's outputs are exactly those of running its
 * frames through {@link Lstm#forwardInto} alone (see {@link LstmStreamPool} for the exact terms).
 *
 * <pre>{@code
 * LstmStream s = pool.open();
 * s.submit(frame).thenAccept(out -> send(out));   // frame: (input_size); out: (H_out)
 * ...
 * s.close();                                      // frames already submitted still run
 * }</pre>
 *
 * <p>Thread-safe: any thread may submit, though frames submitted concurrently by several threads to
 * one stream run in whichever order they reached the pool. A stream ends when it is {@linkplain
 * #close() closed}, when it idles past the pool's idle timeout (it has then {@linkplain #expired()
 * expired}), when a step it is part of fails in the engine, or when the pool closes.
 */
public final class LstmStream implements AutoCloseable {
    /** Where a stream is in its life; guarded by the pool's lock. */
    enum Status { OPEN, CLOSING, CLOSED, EXPIRED, FAILED }

    final LstmStreamPool pool;
    final long id;
    final int slot;
    // Guarded by the pool's lock.
    final ArrayDeque<LstmStreamPool.Frame> queue = new ArrayDeque<>();
    int pendingSteps;
    boolean inFlight;
    Status status = Status.OPEN;
    Throwable failure;
    long lastActiveNanos;

    LstmStream(LstmStreamPool pool, long id, int slot, long now) {
        this.pool = pool;
        this.id = id;
        this.slot = slot;
        this.lastActiveNanos = now;
    }

    /** This stream's number in its pool (0, 1, 2, ... in opening order). */
    public long id() {
        return id;
    }

    /** The pool running this stream. */
    public LstmStreamPool pool() {
        return pool;
    }

    /**
     * Queues one frame and returns a future of its output.
     *
     * @param frame (input_size) for one time step, or (T, input_size) for a chunk of T steps, of the
     *              model's dtype; it is copied, so the caller may reuse it at once
     * @return completes with (H_out), or (T, H_out) for a chunk, when the frame has run; fails with the
     *         engine's exception if its step failed, or with a {@link java.util.concurrent.CancellationException}
     *         if the pool was {@linkplain LstmStreamPool#closeNow() closed at once} before it ran
     * @throws IllegalArgumentException if the frame's shape or dtype does not fit the model
     * @throws java.util.concurrent.RejectedExecutionException if the stream's or the pool's queue bound
     *         is reached (backpressure: the frame was not queued)
     * @throws IllegalStateException if this stream or the pool is closed, the stream expired or failed
     */
    public CompletableFuture<Tensor> submit(Tensor frame) {
        return pool.submit(this, frame, null);
    }

    /**
     * {@link #submit(Tensor)} into the caller's {@code output} ((H_out), or (T, H_out) for a chunk, of the
     * model's dtype), which the future completes with once it is filled. Do not read or change
     * {@code output} before then.
     */
    public CompletableFuture<Tensor> submit(Tensor frame, Tensor output) {
        Objects.requireNonNull(output, "output");
        return pool.submit(this, frame, output);
    }

    /**
     * Runs one frame and waits for its output: {@code submit(frame)}, then waits (not interruptibly:
     * every frame completes or fails, at the latest when the pool closes).
     *
     * <p>Throws what {@link #submit(Tensor)} throws, and the engine's exception itself (not wrapped) if the
     * step failed.
     */
    public Tensor step(Tensor frame) {
        CompletableFuture<Tensor> f = submit(frame);
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw e;
        }
    }

    /**
     * A copy of the stream's current state: {@code h} (num_layers, H_out) and {@code c} (num_layers,
     * hidden_size), after the frames whose futures have completed (a frame running now is not in it).
     *
     * @throws IllegalStateException if the stream has ended (its state is gone)
     */
    public State state() {
        return pool.snapshot(this);
    }

    /** Frames (time steps) queued or running for this stream. */
    public int pending() {
        return pool.pending(this);
    }

    /** Whether frames may still be submitted: not closed, expired, failed, nor in a closed pool. */
    public boolean isOpen() {
        return pool.isOpen(this);
    }

    /** Whether the pool ended this stream because it idled past the idle timeout. */
    public boolean expired() {
        return pool.statusOf(this) == Status.EXPIRED;
    }

    /**
     * Ends the stream: no frame may be submitted any more; frames already submitted still run (their
     * futures complete as usual), then the stream's slot in the pool is freed. Idempotent.
     */
    @Override
    public void close() {
        pool.closeStream(this);
    }

    @Override
    public String toString() {
        return "stream " + id;
    }

    /**
     * A stream's recurrent state.
     *
     * @param h (num_layers, H_out)
     * @param c (num_layers, hidden_size)
     */
    public record State(Tensor h, Tensor c) {
    }
}
