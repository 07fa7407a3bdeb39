package dev.lstm4j.nativ;

import dev.lstm4j.DType;
import java.lang.ref.Cleaner;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.javacpp.Pointer;

/**
 * A native model and the staging buffers of its engine ({@link NativeLstmEngine},
 * {@link NativeLstmCellEngine}): freed once, by close() or, for an engine
 * dropped without it, by the cleaner. Holds no reference to the engine.
 */
final class NativeState<M extends Pointer> implements Runnable {
    /** Frees the native model and staging buffers of an engine that was dropped without close(). */
    static final Cleaner CLEANER = Cleaner.create();

    final M model;
    final java.util.function.Consumer<M> destroy;
    private final DType dtype;
    // Staging sets of finished calls, one per caller that ran at once. The last one given back
    // waits in `spare`, which costs nothing to take and give back; the deque (which allocates a
    // node per offer) holds the rest.
    private final AtomicReference<Loan> spare = new AtomicReference<>();
    private final ConcurrentLinkedDeque<Loan> loans = new ConcurrentLinkedDeque<>();
    private boolean freed;

    NativeState(M model, java.util.function.Consumer<M> destroy, DType dtype) {
        this.model = model;
        this.destroy = destroy;
        this.dtype = dtype;
    }

    /**
     * A set of staging buffers on loan for one call; close() gives it back. Made once per set, so a call
     * allocates nothing. Every native call runs as
     * {@code try (var loan = state.borrow()) { ... } catch (RuntimeException e) { throw NativeErrors.translate(e); }}.
     * (A helper taking a lambda was measured first: C2 does not inline it into Lstm.forwardInto's chain,
     * "already compiled into a big method", and the capturing lambda cost 56 bytes a frame.)
     */
    final class Loan implements AutoCloseable {
        final Staging staging = new Staging(dtype);

        @Override
        public void close() {
            if (!spare.compareAndSet(null, this)) {
                loans.offerFirst(this);
            }
        }
    }

    /** A finished call's staging set, or a new one. */
    Loan borrow() {
        Loan loan = spare.getAndSet(null);
        if (loan == null) {
            loan = loans.pollFirst();
            if (loan == null) {
                loan = new Loan();
            }
        }
        return loan;
    }

    @Override
    public synchronized void run() {
        if (freed) {
            return;
        }
        freed = true;
        Loan last = spare.getAndSet(null);
        if (last != null) {
            last.staging.close();
        }
        for (Loan l; (l = loans.pollFirst()) != null;) {
            l.staging.close();
        }
        destroy.accept(model);
    }
}
