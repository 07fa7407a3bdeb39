package dev.lstm4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Many live streams on one unidirectional {@link Lstm}, their time steps batched: a voice-activity
 * detector, keyword spotter or sensor model serving thousands of calls or devices, each bringing one
 * frame every few milliseconds. Instead of one batch-1 {@code forwardInto} per frame (each reading the
 * whole weight matrix again), a scheduler thread gathers the streams that have a frame waiting into one
 * batched step of up to {@link Builder#maxBatch(int) maxBatch} rows, waiting at most
 * {@link Builder#maxWait(Duration) maxWait} after the oldest waiting frame for more, oldest frames first.
 *
 * <pre>{@code
 * try (Lstm model = Lstm.create(config, weights);
 *      LstmStreamPool pool = LstmStreamPool.builder(model).maxBatch(64).maxWait(Duration.ofMillis(2)).build()) {
 *     LstmStream call = pool.open();                       // zero state; or open(h0, c0)
 *     CompletableFuture<Tensor> out = call.submit(frame);   // frame (input_size) -> (H_out)
 *     ...
 *     call.close();
 * }
 * }</pre>
 *
 * <p><b>State.</b> The states of all streams live in the pool, in two contiguous arrays
 * (num_layers, capacity, H_out) and (num_layers, capacity, hidden_size), one slot per open stream,
 * slots reused as streams close; a step copies its rows' states into the batch and back, nothing per
 * stream is allocated per step. Frames of one stream run in submission order, one step at a time
 * (a chunk of T steps takes T batched steps, interleaved with other streams).
 *
 * <p><b>Exactness.</b> A stream's outputs and state are those of running its frames alone through
 * {@link Lstm#forwardInto} from the same initial state, bit for bit on {@link Backend#JAVA} and on
 * {@link Backend#NATIVE} on the CPU with its default algorithm (float32 and float64), whatever else was
 * batched with it: their GEMMs compute every output element as one FMA chain (float64: one sequential
 * sum) over k in order, whatever the batch size or the split over threads. On {@link Backend#LIBTORCH},
 * on CUDA and
 * with the other {@code lstm4j.native.cpuAlgorithm} settings (all of which run LibTorch's BLAS, oneDNN
 * or cuBLAS GEMMs), a batched step may differ from a batch-1 step by float rounding, as those libraries
 * pick other kernels for other batch sizes.
 *
 * <p><b>Backpressure and lifecycle.</b> Queues are bounded: a frame beyond
 * {@link Builder#maxPendingPerStream(int)} or {@link Builder#maxPendingTotal(int)} is refused with a
 * {@link RejectedExecutionException} at once, never queued. Streams idle (nothing queued or running)
 * longer than {@link Builder#idleTimeout(Duration)} expire. If the engine throws, every frame of that
 * step fails with the exception, and so do those streams (their states did not advance, so later frames
 * could no longer match). {@link #close()} refuses new frames, runs every queued one, then stops the
 * scheduler; {@link #closeNow()} fails queued frames with a {@link CancellationException} instead. No
 * future is left incomplete. The pool does not own the model: close the pool first.
 *
 * <p>With {@link Builder#stepThreads(int) stepThreads} above 1, that many scheduler threads each form and
 * run steps, so steps of different streams run at once; a stream is in one step at a time.
 *
 * <p>Futures complete on the scheduler thread unless a {@link Builder#completionExecutor(Executor)} is
 * set: dependent actions registered without {@code ...Async} then run there and hold up every stream,
 * so keep them short. Thread-safe.
 */
public final class LstmStreamPool implements AutoCloseable {
    private final Lstm model;
    private final DType dtype;
    private final boolean batchFirst;
    private final int inputSize;
    private final int hidden;
    private final int hOut;
    private final int layers;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final int maxPendingPerStream;
    private final int maxPendingTotal;
    private final int maxStreams;
    private final long idleTimeoutNanos;
    private final long scanNanos;
    private final Executor completionExecutor;
    private final Consumer<LstmStream> onExpire;

    // Queues and stream bookkeeping, guarded by lock. Lock order: lock, then stateLock.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final ReadyHeap ready = new ReadyHeap();
    private LstmStream[] bySlot = new LstmStream[0];
    private int[] freeSlots = new int[0];
    private int freeCount;
    private int slotsUsed;
    private int openCount;
    private int pendingTotal;
    private long nextSeq;
    private long nextId;
    private long stepsRun;
    private long framesRun;
    private int largestBatch;
    private boolean closing;

    // The states of all streams: (layers, capacity, hOut) and (layers, capacity, hidden), guarded by stateLock.
    private final Object stateLock = new Object();
    private int capacity;
    private Object hStore;
    private Object cStore;

    // The scheduler threads, each running one batched step at a time; finished counts them down.
    private final Runner[] runners;
    private final CountDownLatch finished;

    /** One scheduler thread and what only it touches: the batch being formed, one staging set per size. */
    private final class Runner {
        final LstmStream[] batch = new LstmStream[maxBatch];
        final Frame[] frames = new Frame[maxBatch];
        final Staging[] stagings = new Staging[maxBatch + 1];
        final boolean expires; // the first runner alone looks for idle streams
        final Thread thread;

        Runner(ThreadFactory factory, boolean expires) {
            this.expires = expires;
            this.thread = factory.newThread(() -> schedule(this));
            if (thread == null) {
                throw new IllegalArgumentException("threadFactory: returned no thread");
            }
        }
    }

    /** One submitted frame: its input (copied), output and future. Fields other than done are final. */
    static final class Frame {
        final Object input;
        final int steps;
        final Tensor output;
        final Object outData;
        final CompletableFuture<Tensor> future = new CompletableFuture<>();
        final long seq;
        final long arrivalNanos;
        int done; // steps run; scheduler thread only

        Frame(Object input, int steps, Tensor output, Object outData, long seq, long arrivalNanos) {
            this.input = input;
            this.steps = steps;
            this.output = output;
            this.outData = outData;
            this.seq = seq;
            this.arrivalNanos = arrivalNanos;
        }
    }

    /**
     * The streams with a frame waiting, oldest head frame first: a binary min-heap on the head frame's
     * sequence number, kept in a primitive array. A {@code PriorityQueue} whose comparator read each
     * stream's queue head took 31 of the scheduler's 49 Java samples (JFR, 512 streams, H=256): every
     * comparison chased two streams' deques into their frames, cache misses at this many streams.
     */
    static final class ReadyHeap {
        private long[] keys = new long[64];
        private LstmStream[] items = new LstmStream[64];
        private int size;

        int size() {
            return size;
        }

        boolean isEmpty() {
            return size == 0;
        }

        LstmStream peek() {
            return size == 0 ? null : items[0];
        }

        void add(LstmStream s, long key) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                items = Arrays.copyOf(items, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (keys[parent] <= key) {
                    break;
                }
                keys[i] = keys[parent];
                items[i] = items[parent];
                i = parent;
            }
            keys[i] = key;
            items[i] = s;
        }

        LstmStream poll() {
            if (size == 0) {
                return null;
            }
            LstmStream top = items[0];
            int n = --size;
            long key = keys[n];
            LstmStream last = items[n];
            items[n] = null;
            if (n > 0) {
                int i = 0;
                for (int child; (child = 2 * i + 1) < n; i = child) {
                    if (child + 1 < n && keys[child + 1] < keys[child]) {
                        child++;
                    }
                    if (key <= keys[child]) {
                        break;
                    }
                    keys[i] = keys[child];
                    items[i] = items[child];
                }
                keys[i] = key;
                items[i] = last;
            }
            return top;
        }

        void clear() {
            Arrays.fill(items, 0, size, null);
            size = 0;
        }
    }

    /** The tensors of one batch size, reused for every step of that size. */
    private static final class Staging {
        final Tensor input;
        final Tensor output;
        final LstmState state;

        Staging(Lstm model, int n) {
            LstmConfig c = model.config();
            boolean bf = c.batchFirst();
            input = Tensor.zeros(c.dtype(), bf ? new int[] {n, 1, c.inputSize()} : new int[] {1, n, c.inputSize()});
            output = Tensor.zeros(c.dtype(),
                    bf ? new int[] {n, 1, c.realHiddenSize()} : new int[] {1, n, c.realHiddenSize()});
            state = model.newHostState(n); // its h() and c() are written and read around each step
        }
    }

    private LstmStreamPool(Builder b) {
        this.model = b.model;
        LstmConfig c = model.config();
        this.dtype = c.dtype();
        this.batchFirst = c.batchFirst();
        this.inputSize = c.inputSize();
        this.hidden = c.hiddenSize();
        this.hOut = c.realHiddenSize();
        this.layers = c.numLayers();
        this.maxBatch = b.maxBatch;
        // Capped at a year, so that deadlines (arrival + maxWait) cannot overflow.
        this.maxWaitNanos = Math.min(b.maxWait.toSeconds(), 365L * 86400) * 1_000_000_000L
                + b.maxWait.toNanosPart();
        this.maxPendingPerStream = b.maxPendingPerStream;
        this.maxPendingTotal = b.maxPendingTotal;
        this.maxStreams = b.maxStreams;
        this.idleTimeoutNanos = Math.min(b.idleTimeout.toSeconds(), 365L * 86400) * 1_000_000_000L
                + b.idleTimeout.toNanosPart();
        // Idle streams are looked for a few times per timeout, at most every second.
        this.scanNanos = Math.max(100_000L, Math.min(idleTimeoutNanos / 4, 1_000_000_000L));
        this.completionExecutor = b.completionExecutor;
        this.onExpire = b.onExpire;
        this.hStore = alloc(0);
        this.cStore = alloc(0);
        this.runners = new Runner[b.stepThreads];
        for (int i = 0; i < runners.length; i++) {
            runners[i] = new Runner(b.threadFactory, i == 0);
        }
        this.finished = new CountDownLatch(runners.length);
    }

    /**
     * A builder for a pool on {@code model}.
     *
     * @throws IllegalArgumentException if the model is bidirectional (its reverse direction would need
     *                                  the frames after each one)
     */
    public static Builder builder(Lstm model) {
        Objects.requireNonNull(model, "model");
        if (model.config().bidirectional()) {
            throw new IllegalArgumentException("model: a stream pool needs a unidirectional LSTM, got bidirectional="
                    + "true; the reverse direction of a frame would need the frames after it");
        }
        return new Builder(model);
    }

    /** The model the streams run on. */
    public Lstm model() {
        return model;
    }

    /** Opens a stream from the zero state. */
    public LstmStream open() {
        return open(null, null);
    }

    /**
     * Opens a stream from {@code (h0, c0)}: (num_layers, H_out) and (num_layers, hidden_size), or
     * (num_layers, 1, ...) as {@link Lstm#newState(Tensor, Tensor)} takes them; copied. Both or neither
     * (null for zeros).
     *
     * @throws IllegalArgumentException naming the tensor and the expected and actual shape or dtype
     * @throws IllegalStateException    if the pool is closed or already holds {@code maxStreams} streams
     */
    public LstmStream open(Tensor h0, Tensor c0) {
        if ((h0 == null) != (c0 == null)) {
            throw new IllegalArgumentException("(h0, c0): pass both or neither, got " + (h0 == null ? "only c0" : "only h0"));
        }
        if (h0 != null) {
            checkInitial("h0", h0, hOut, "(num_layers, proj_size or hidden_size)");
            checkInitial("c0", c0, hidden, "(num_layers, hidden_size)");
        }
        lock.lock();
        try {
            if (closing) {
                throw new IllegalStateException("stream pool is closed");
            }
            if (openCount >= maxStreams) {
                throw new IllegalStateException("stream pool: " + openCount + " streams open, at most " + maxStreams
                        + " (maxStreams); close some first");
            }
            int slot = freeCount > 0 ? freeSlots[--freeCount] : slotsUsed++;
            synchronized (stateLock) {
                if (slot >= capacity) {
                    grow(slot + 1);
                }
                for (int l = 0; l < layers; l++) {
                    int hAt = (l * capacity + slot) * hOut;
                    int cAt = (l * capacity + slot) * hidden;
                    if (h0 == null) {
                        fill0(hStore, hAt, hOut);
                        fill0(cStore, cAt, hidden);
                    } else {
                        System.arraycopy(data(h0), l * hOut, hStore, hAt, hOut);
                        System.arraycopy(data(c0), l * hidden, cStore, cAt, hidden);
                    }
                }
            }
            if (slot >= bySlot.length) {
                bySlot = Arrays.copyOf(bySlot, capacity);
            }
            LstmStream s = new LstmStream(this, nextId++, slot, System.nanoTime());
            bySlot[slot] = s;
            openCount++;
            if (openCount == 1 && runners[0].thread.getState() == Thread.State.NEW) {
                for (Runner r : runners) {
                    r.thread.start();
                }
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    private void checkInitial(String name, Tensor t, int features, String meaning) {
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(name + ": expected dtype " + dtype + ", got " + t.dtype());
        }
        int[] s = t.shape();
        boolean ok = s.length == 2 && s[0] == layers && s[1] == features
                || s.length == 3 && s[0] == layers && s[1] == 1 && s[2] == features;
        if (!ok) {
            throw new IllegalArgumentException(name + ": expected shape [" + layers + ", " + features + "] " + meaning
                    + ", got " + Arrays.toString(s));
        }
    }

    /** Grows the state arrays to at least {@code slots} slots (doubling), keeping every slot's rows. */
    private void grow(int slots) {
        int cap = Math.max(capacity, 16);
        while (cap < slots) {
            cap = (int) Math.min((long) cap * 2, Integer.MAX_VALUE - 8);
        }
        cap = Math.min(cap, Math.max(slots, maxStreams));
        Object h = alloc(Math.multiplyExact(Math.multiplyExact(layers, cap), hOut));
        Object c = alloc(Math.multiplyExact(Math.multiplyExact(layers, cap), hidden));
        for (int l = 0; l < layers; l++) {
            System.arraycopy(hStore, l * capacity * hOut, h, l * cap * hOut, capacity * hOut);
            System.arraycopy(cStore, l * capacity * hidden, c, l * cap * hidden, capacity * hidden);
        }
        hStore = h;
        cStore = c;
        capacity = cap;
    }

    CompletableFuture<Tensor> submit(LstmStream s, Tensor frame, Tensor output) {
        Objects.requireNonNull(frame, "frame");
        if (frame.dtype() != dtype) {
            throw new IllegalArgumentException("frame: expected dtype " + dtype + ", got " + frame.dtype());
        }
        if (frame.dim() != 1 && frame.dim() != 2) {
            throw new IllegalArgumentException("frame: expected a 1-D (input_size) frame or a 2-D (T, input_size) "
                    + "chunk, got " + frame.dim() + "-D " + Arrays.toString(frame.shape()));
        }
        if (frame.size(-1) != inputSize) {
            throw new IllegalArgumentException("frame has inconsistent input_size: got " + frame.size(-1)
                    + ", expected " + inputSize);
        }
        int steps = frame.dim() == 1 ? 1 : frame.size(0);
        if (steps < 1) {
            throw new IllegalArgumentException("frame: expected at least one step, got shape "
                    + Arrays.toString(frame.shape()));
        }
        if (steps > maxPendingPerStream) {
            throw new IllegalArgumentException("frame: a chunk of " + steps + " steps can never fit the stream's queue "
                    + "of " + maxPendingPerStream + " (maxPendingPerStream)");
        }
        int[] outShape = frame.dim() == 1 ? new int[] {hOut} : new int[] {steps, hOut};
        if (output == null) {
            output = Tensor.zeros(dtype, outShape);
        } else if (output.dtype() != dtype || !Arrays.equals(output.shape(), outShape)) {
            throw new IllegalArgumentException("output: expected " + dtype + " of shape " + Arrays.toString(outShape)
                    + ", got " + output.dtype() + " of shape " + Arrays.toString(output.shape()));
        }
        Object in = data(frame);
        in = in instanceof float[] ? ((float[]) in).clone() : ((double[]) in).clone();
        long now = System.nanoTime();
        lock.lock();
        try {
            checkSubmittable(s);
            if (s.pendingSteps + steps > maxPendingPerStream) {
                throw new RejectedExecutionException(s + ": " + s.pendingSteps + " frames pending, at most "
                        + maxPendingPerStream + " per stream (maxPendingPerStream); the pool is behind: drop the frame "
                        + "or submit it later");
            }
            if (pendingTotal + steps > maxPendingTotal) {
                throw new RejectedExecutionException("stream pool: " + pendingTotal + " frames pending in all streams, at "
                        + "most " + maxPendingTotal + " (maxPendingTotal); the pool is behind: drop the frame or submit "
                        + "it later");
            }
            Frame f = new Frame(in, steps, output, data(output), nextSeq++, now);
            boolean wasIdle = s.queue.isEmpty() && !s.inFlight;
            s.queue.addLast(f);
            s.pendingSteps += steps;
            s.lastActiveNanos = now;
            pendingTotal += steps;
            if (wasIdle) {
                ready.add(s, f.seq);
                // The scheduler sleeps without a deadline only when nothing is ready, and wants to know
                // early when a batch is full; otherwise it wakes at the oldest frame's deadline anyway.
                if (ready.size() == 1 || ready.size() == maxBatch) {
                    wake.signal();
                }
            }
            return f.future;
        } finally {
            lock.unlock();
        }
    }

    private void checkSubmittable(LstmStream s) {
        if (s.pool != this) {
            throw new IllegalArgumentException("stream: belongs to another pool");
        }
        if (closing) {
            throw new IllegalStateException("stream pool is closed");
        }
        switch (s.status) {
            case OPEN:
                return;
            case EXPIRED:
                throw new IllegalStateException(s + " expired after idling for " + idleTimeoutNanos / 1_000_000
                        + " ms (idleTimeout)");
            case FAILED:
                throw new IllegalStateException(s + " failed: " + s.failure, s.failure);
            default:
                throw new IllegalStateException(s + " is closed");
        }
    }

    LstmStream.State snapshot(LstmStream s) {
        lock.lock();
        try {
            if (s.status != LstmStream.Status.OPEN && s.status != LstmStream.Status.CLOSING) {
                checkSubmittable(s); // throws the reason
                throw new IllegalStateException(s + " has ended"); // not reached
            }
            Tensor h = Tensor.zeros(dtype, layers, hOut);
            Tensor c = Tensor.zeros(dtype, layers, hidden);
            synchronized (stateLock) {
                for (int l = 0; l < layers; l++) {
                    System.arraycopy(hStore, (l * capacity + s.slot) * hOut, data(h), l * hOut, hOut);
                    System.arraycopy(cStore, (l * capacity + s.slot) * hidden, data(c), l * hidden, hidden);
                }
            }
            return new LstmStream.State(h, c);
        } finally {
            lock.unlock();
        }
    }

    int pending(LstmStream s) {
        lock.lock();
        try {
            return s.pendingSteps;
        } finally {
            lock.unlock();
        }
    }

    boolean isOpen(LstmStream s) {
        lock.lock();
        try {
            return s.status == LstmStream.Status.OPEN && !closing;
        } finally {
            lock.unlock();
        }
    }

    LstmStream.Status statusOf(LstmStream s) {
        lock.lock();
        try {
            return s.status;
        } finally {
            lock.unlock();
        }
    }

    void closeStream(LstmStream s) {
        lock.lock();
        try {
            if (s.status != LstmStream.Status.OPEN) {
                return;
            }
            if (s.queue.isEmpty() && !s.inFlight) {
                release(s, LstmStream.Status.CLOSED);
            } else {
                s.status = LstmStream.Status.CLOSING; // the scheduler frees the slot after the last frame
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends a stream that has nothing queued or running and frees its slot; under lock. */
    private void release(LstmStream s, LstmStream.Status status) {
        s.status = status;
        bySlot[s.slot] = null;
        if (freeCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, Math.max(16, freeSlots.length * 2));
        }
        freeSlots[freeCount++] = s.slot;
        openCount--;
    }

    /** Counters of the pool, for monitoring and tuning. */
    public Stats stats() {
        lock.lock();
        try {
            return new Stats(openCount, pendingTotal, stepsRun, framesRun, largestBatch);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A pool's counters.
     *
     * @param openStreams   streams open (closing ones with frames left included)
     * @param pendingFrames frames (time steps) queued or running
     * @param steps         batched steps run so far
     * @param frames        time steps run so far, in all streams; {@code frames / steps} is the mean batch
     * @param largestBatch  the most rows a step has had so far
     */
    public record Stats(int openStreams, int pendingFrames, long steps, long frames, int largestBatch) {
    }

    /**
     * Stops taking frames and streams, runs every frame already queued, then stops the scheduler and
     * returns. Idempotent. Streams still open end with the pool.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        awaitScheduler();
    }

    /**
     * Stops taking frames and streams, fails every queued frame that has not started with a
     * {@link CancellationException} (a step already running completes), then stops the scheduler and
     * returns. Idempotent.
     */
    public void closeNow() {
        List<Frame> cancelled = new ArrayList<>();
        lock.lock();
        try {
            closing = true;
            ready.clear();
            for (int i = 0; i < slotsUsed; i++) {
                LstmStream s = bySlot[i];
                if (s == null) {
                    continue;
                }
                // A stream in flight keeps its running frame; the scheduler finishes it.
                int keep = s.inFlight ? 1 : 0;
                while (s.queue.size() > keep) {
                    Frame f = s.queue.pollLast();
                    s.pendingSteps -= f.steps - f.done;
                    pendingTotal -= f.steps - f.done;
                    cancelled.add(f);
                }
            }
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        for (Frame f : cancelled) {
            f.future.completeExceptionally(new CancellationException(
                    "the stream pool was closed before this frame ran (closeNow)"));
        }
        awaitScheduler();
    }

    private void awaitScheduler() {
        lock.lock();
        try {
            if (runners[0].thread.getState() == Thread.State.NEW) {
                endAll();
                for (int i = 0; i < runners.length; i++) {
                    finished.countDown();
                }
                return;
            }
        } finally {
            lock.unlock();
        }
        for (Runner r : runners) {
            if (Thread.currentThread() == r.thread) {
                return; // closed from a completion on a scheduler thread: it stops after this step
            }
        }
        boolean interrupted = false;
        while (true) {
            try {
                finished.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends every stream still open (nothing is queued any more); under lock. */
    private void endAll() {
        for (int i = 0; i < slotsUsed; i++) {
            if (bySlot[i] != null) {
                release(bySlot[i], LstmStream.Status.CLOSED);
            }
        }
    }

    /** A scheduler thread's loop: forms and runs batched steps until the pool is closed and drained. */
    private void schedule(Runner r) {
        LstmStream[] batch = r.batch;
        Frame[] frames = r.frames;
        boolean expiring = r.expires && idleTimeoutNanos > 0;
        long nextScan = System.nanoTime() + scanNanos;
        List<LstmStream> expired = new ArrayList<>();
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                if (expiring && now - nextScan >= 0) {
                    expireIdle(now, expired);
                    nextScan = now + scanNanos;
                    if (!expired.isEmpty()) {
                        lock.unlock();
                        try {
                            notifyExpired(expired);
                        } finally {
                            lock.lock();
                        }
                        continue;
                    }
                }
                if (ready.isEmpty()) {
                    if (closing && pendingTotal == 0) {
                        endAll();
                        wake.signalAll(); // the other scheduler threads see it too
                        return;
                    }
                    awaitUntil(expiring, nextScan, now);
                    continue;
                }
                long deadline = ready.peek().queue.peekFirst().arrivalNanos + maxWaitNanos;
                if (ready.size() < maxBatch && deadline - now > 0 && !closing) {
                    awaitUntil(true, expiring && nextScan - deadline < 0 ? nextScan : deadline, now);
                    continue;
                }
                int n = 0;
                while (n < maxBatch && !ready.isEmpty()) {
                    LstmStream s = ready.poll();
                    s.inFlight = true;
                    batch[n] = s;
                    frames[n] = s.queue.peekFirst();
                    n++;
                }
                if (!ready.isEmpty() && runners.length > 1) {
                    wake.signal(); // another scheduler thread may take what is left
                }
                Throwable error = null;
                lock.unlock();
                try {
                    step(r, n);
                } catch (Throwable t) {
                    error = t;
                } finally {
                    lock.lock();
                }
                finishStep(r, n, error);
            }
        } finally {
            lock.unlock();
            finished.countDown();
        }
    }

    /** Waits for a signal, or until {@code until} (System.nanoTime) when {@code timed}; under lock. */
    private void awaitUntil(boolean timed, long until, long now) {
        try {
            if (!timed) {
                wake.await();
            } else {
                wake.awaitNanos(until - now);
            }
        } catch (InterruptedException e) {
            // Only close() ends the scheduler; an interrupt from elsewhere is ignored.
        }
    }

    /** Runs one batched step of the runner's first n frames: gather, forwardInto, scatter. */
    private void step(Runner r, int n) {
        LstmStream[] batch = r.batch;
        Frame[] frames = r.frames;
        Staging st = r.stagings[n];
        if (st == null) {
            st = new Staging(model, n);
            r.stagings[n] = st;
        }
        Object in = data(st.input);
        for (int i = 0; i < n; i++) {
            Frame f = frames[i];
            System.arraycopy(f.input, f.done * inputSize, in, i * inputSize, inputSize);
        }
        Object h = data(st.state.h());
        Object c = data(st.state.c());
        synchronized (stateLock) {
            for (int l = 0; l < layers; l++) {
                for (int i = 0; i < n; i++) {
                    int slot = batch[i].slot;
                    System.arraycopy(hStore, (l * capacity + slot) * hOut, h, (l * n + i) * hOut, hOut);
                    System.arraycopy(cStore, (l * capacity + slot) * hidden, c, (l * n + i) * hidden, hidden);
                }
            }
        }
        model.forwardInto(st.input, st.state, st.output);
        h = data(st.state.h());
        c = data(st.state.c());
        synchronized (stateLock) {
            for (int l = 0; l < layers; l++) {
                for (int i = 0; i < n; i++) {
                    int slot = batch[i].slot;
                    System.arraycopy(h, (l * n + i) * hOut, hStore, (l * capacity + slot) * hOut, hOut);
                    System.arraycopy(c, (l * n + i) * hidden, cStore, (l * capacity + slot) * hidden, hidden);
                }
            }
        }
        Object out = data(st.output);
        for (int i = 0; i < n; i++) {
            Frame f = frames[i];
            System.arraycopy(out, i * hOut, f.outData, f.done * hOut, hOut);
            f.done++;
        }
    }

    /** Bookkeeping after a step (under lock), then the futures completed outside it. */
    private void finishStep(Runner r, int n, Throwable error) {
        LstmStream[] batch = r.batch;
        Frame[] frames = r.frames;
        List<Frame> failed = null;
        int done = 0;
        long now = System.nanoTime();
        for (int i = 0; i < n; i++) {
            LstmStream s = batch[i];
            Frame f = frames[i];
            s.inFlight = false;
            s.lastActiveNanos = now;
            if (error != null) {
                // The stream's state did not advance: its later frames could not match a run alone.
                if (failed == null) {
                    failed = new ArrayList<>();
                }
                failed.addAll(s.queue);
                pendingTotal -= s.pendingSteps;
                s.queue.clear();
                s.pendingSteps = 0;
                s.failure = error;
                if (s.status == LstmStream.Status.OPEN || s.status == LstmStream.Status.CLOSING) {
                    release(s, LstmStream.Status.FAILED);
                }
                batch[i] = null;
                frames[i] = null;
                continue;
            }
            s.pendingSteps--;
            pendingTotal--;
            if (f.done == f.steps) {
                s.queue.pollFirst();
                frames[done++] = f; // completed frames move to the front of frames
            }
            if (!s.queue.isEmpty()) {
                ready.add(s, s.queue.peekFirst().seq);
            } else if (s.status == LstmStream.Status.CLOSING) {
                release(s, LstmStream.Status.CLOSED);
            }
            batch[i] = null;
        }
        if (error == null) {
            stepsRun++;
            framesRun += n;
            largestBatch = Math.max(largestBatch, n);
        }
        if (runners.length > 1 && !ready.isEmpty()) {
            wake.signal(); // streams back in the queue: a waiting scheduler thread may take them
        }
        lock.unlock();
        try {
            for (int i = 0; i < done; i++) {
                complete(frames[i]);
                frames[i] = null;
            }
            for (int i = done; i < n; i++) {
                frames[i] = null;
            }
            if (failed != null) {
                for (Frame f : failed) {
                    f.future.completeExceptionally(error);
                }
            }
        } finally {
            lock.lock();
        }
    }

    private void complete(Frame f) {
        if (completionExecutor == null) {
            f.future.complete(f.output);
            return;
        }
        try {
            completionExecutor.execute(() -> f.future.complete(f.output));
        } catch (RejectedExecutionException e) {
            f.future.complete(f.output); // an executor shut down must not lose the result
        }
    }

    /** Ends the streams idle for longer than the idle timeout; under lock. */
    private void expireIdle(long now, List<LstmStream> expired) {
        if (idleTimeoutNanos == 0) {
            return;
        }
        for (int i = 0; i < slotsUsed; i++) {
            LstmStream s = bySlot[i];
            if (s != null && s.status == LstmStream.Status.OPEN && !s.inFlight && s.queue.isEmpty()
                    && now - s.lastActiveNanos >= idleTimeoutNanos) {
                release(s, LstmStream.Status.EXPIRED);
                expired.add(s);
            }
        }
    }

    private void notifyExpired(List<LstmStream> expired) {
        try {
            if (onExpire != null) {
                for (LstmStream s : expired) {
                    try {
                        onExpire.accept(s);
                    } catch (RuntimeException e) {
                        // A listener's failure must not stop the scheduler; the stream has expired anyway.
                    }
                }
            }
        } finally {
            expired.clear();
        }
    }

    private Object alloc(int n) {
        return dtype == DType.FLOAT32 ? new float[n] : new double[n];
    }

    private static Object data(Tensor t) {
        return t.dtype() == DType.FLOAT32 ? t.floatData() : t.doubleData();
    }

    private static void fill0(Object a, int from, int n) {
        if (a instanceof float[]) {
            Arrays.fill((float[]) a, from, from + n, 0f);
        } else {
            Arrays.fill((double[]) a, from, from + n, 0.0);
        }
    }

    @Override
    public String toString() {
        return "LstmStreamPool(maxBatch=" + maxBatch + ", maxWait=" + maxWaitNanos / 1000 + " us) on " + model;
    }

    /**
     * The knobs of a pool; every one has a default. {@code maxBatch} and {@code maxWait} trade latency
     * for throughput: a step costs little more for 64 rows than for one (the weights are read once), so
     * under load bigger batches serve more frames per second, while {@code maxWait} caps how long a
     * frame waits for company when the load is light.
     */
    public static final class Builder {
        private final Lstm model;
        private int maxBatch = 64;
        private Duration maxWait = Duration.ofMillis(1);
        private int maxPendingPerStream = 16;
        private int maxPendingTotal = 1 << 16;
        private int maxStreams = 1 << 16;
        private int stepThreads = 1;
        private Duration idleTimeout = Duration.ZERO;
        private ThreadFactory threadFactory = r -> {
            Thread t = new Thread(r, "lstm4j-stream-pool");
            t.setDaemon(true);
            return t;
        };
        private Executor completionExecutor;
        private Consumer<LstmStream> onExpire;

        private Builder(Lstm model) {
            this.model = model;
        }

        /** Most streams in one batched step (default 64). */
        public Builder maxBatch(int maxBatch) {
            this.maxBatch = positive("maxBatch", maxBatch);
            return this;
        }

        /**
         * Longest time the oldest waiting frame waits for more frames to fill a batch (default 1 ms);
         * zero runs whatever is waiting as soon as the scheduler is free.
         */
        public Builder maxWait(Duration maxWait) {
            this.maxWait = nonNegative("maxWait", maxWait);
            return this;
        }

        /** Most frames (time steps) queued or running per stream (default 16); more are rejected. */
        public Builder maxPendingPerStream(int maxPendingPerStream) {
            this.maxPendingPerStream = positive("maxPendingPerStream", maxPendingPerStream);
            return this;
        }

        /** Most frames (time steps) queued or running in the whole pool (default 65536); more are rejected. */
        public Builder maxPendingTotal(int maxPendingTotal) {
            this.maxPendingTotal = positive("maxPendingTotal", maxPendingTotal);
            return this;
        }

        /**
         * Batched steps that may run at once, each on its own scheduler thread (default 1). With 2 and a
         * model of {@code ModelOptions.threads(1)}, two steps of different streams run side by side, one
         * per core, and one thread's completions and batch forming overlap the other's step instead of
         * leaving the model's helper threads waiting; with a multi-threaded model the second step runs on
         * its own thread while the first holds the model's team. A stream is in one step at a time, so
         * its frames still run in order and its results do not change.
         */
        public Builder stepThreads(int stepThreads) {
            this.stepThreads = positive("stepThreads", stepThreads);
            return this;
        }

        /** Most streams open at once (default 65536). */
        public Builder maxStreams(int maxStreams) {
            this.maxStreams = positive("maxStreams", maxStreams);
            return this;
        }

        /**
         * Streams with nothing queued or running for this long expire: their slot is freed and a later
         * submit fails (default zero: never). Checked a few times per timeout.
         */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = nonNegative("idleTimeout", idleTimeout);
            return this;
        }

        /** Makes the scheduler threads (default: daemon threads named {@code lstm4j-stream-pool}). */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * Completes the futures on this executor instead of the scheduler thread (default none: on the
         * scheduler thread, the lowest latency, but dependent actions then delay every stream).
         */
        public Builder completionExecutor(Executor completionExecutor) {
            this.completionExecutor = completionExecutor;
            return this;
        }

        /** Called on the scheduler thread with each stream that expired (default none). */
        public Builder onExpire(Consumer<LstmStream> onExpire) {
            this.onExpire = onExpire;
            return this;
        }

        /** The pool; its scheduler threads start with the first stream. */
        public LstmStreamPool build() {
            return new LstmStreamPool(this);
        }

        private static int positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + ": expected a positive number, got " + v);
            }
            return v;
        }

        private static Duration nonNegative(String name, Duration d) {
            Objects.requireNonNull(d, name);
            if (d.isNegative()) {
                throw new IllegalArgumentException(name + ": expected a duration >= 0, got " + d);
            }
            return d;
        }
    }
}
