package dev.lstm4j.jvm;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A few worker threads that split one recurrent step with the calling thread and hand it back in
 * well under a microsecond. A time step is too short for the fork-join pool (a hand-off there costs
 * several microseconds, as much as the step): the workers spin briefly on a volatile generation
 * counter before they park, so back-to-back steps find them awake.
 *
 * <p>Parts are claimed, not assigned: the caller claims parts too, so a worker that is parked or
 * descheduled (another runtime's threads spinning on the same cores, say) costs nothing but its
 * share of the speed-up. Every part writes its own disjoint outputs, so who runs it never changes
 * the result; a caller that finds the team in use by another thread runs all parts itself.
 *
 * <p>One team per engine. The threads are daemons, started on first use and stopped by
 * {@link #close()} or, failing that, when the engine becomes unreachable.
 */
final class Team implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Crew crew;
    private final Cleaner.Cleanable cleanable;

    /** @param size threads taking part in a step, the caller included */
    Team(int size) {
        this.crew = new Crew(Math.max(1, size));
        this.cleanable = CLEANER.register(this, crew::shutdown);
    }

    /** Threads taking part in a step, the caller included. */
    int size() {
        return crew.size;
    }

    /**
     * Runs {@code body.accept(p)} for every {@code p < parts} (at most 65535) and returns when all
     * are done; memory written by any part is then visible to the caller.
     */
    void run(int parts, IntConsumer body) {
        crew.run(parts, body);
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    /** The state the worker threads see; holds no reference to the {@link Team}, so it can be cleaned. */
    private static final class Crew {
        /**
         * How long a worker spins for the next step before it parks: long enough to bridge the
         * serial work between two steps and the caller's work between two forward calls, short
         * enough not to hold a core for long once the calls stop. A parked worker is woken at the
         * start of the next call, and on a virtual machine that can take longer than the forward
         * (see the native team, src/cpu/team.cpp).
         */
        private static final long SPIN_NANOS = 500_000;
        /**
         * Past this much of it (longer than any wait between two steps), the spinning yields the core
         * between checks, so that a worker sharing its core with the caller does not hold off the
         * caller's next call (see the native team, src/cpu/team.cpp).
         */
        private static final long HOT_SPIN_NANOS = 100_000;
        /** Rounds the caller spins on unfinished parts before it yields between checks. */
        private static final int CALLER_SPINS = 1 << 16;

        final int size;
        private final ReentrantLock owner = new ReentrantLock();
        private Thread[] threads;
        private final AtomicInteger parked = new AtomicInteger();
        /**
         * (generation << 32) | (parts << 16) | next unclaimed part: one word, so that a claim can
         * only succeed against the run it was read for.
         */
        private final AtomicLong claim = new AtomicLong();
        private final AtomicInteger finished = new AtomicInteger();
        private volatile long generation;
        private volatile boolean closed;
        private volatile Throwable failure;
        private IntConsumer body;

        Crew(int size) {
            this.size = size;
        }

        void run(int parts, IntConsumer body) {
            parts = Math.min(parts, 0xffff);
            if (parts <= 1 || size == 1 || closed || !owner.tryLock()) {
                for (int p = 0; p < parts; p++) {
                    body.accept(p);
                }
                return;
            }
            try {
                if (threads == null) {
                    start();
                }
                long gen = generation + 1;
                this.body = body;
                failure = null;
                finished.set(0);
                claim.set(gen << 32 | (long) parts << 16);
                generation = gen; // publishes the run
                if (parked.get() > 0) {
                    for (Thread t : threads) {
                        LockSupport.unpark(t);
                    }
                }
                work(gen);
                int spins = 0;
                while (finished.get() < parts) {
                    if (++spins < CALLER_SPINS) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield(); // a worker holding a part was descheduled: let it run
                    }
                }
                this.body = null;
                Throwable t = failure;
                if (t instanceof RuntimeException e) {
                    throw e;
                } else if (t instanceof Error e) {
                    throw e;
                }
            } finally {
                owner.unlock();
            }
        }

        /** Claims and runs parts of run {@code gen} until none is left. */
        private void work(long gen) {
            while (true) {
                long s = claim.get();
                int next = (int) (s & 0xffff);
                if (s >>> 32 != gen || next >= (int) ((s >>> 16) & 0xffff)) {
                    return;
                }
                if (!claim.compareAndSet(s, s + 1)) {
                    continue;
                }
                try {
                    // The run cannot end before this part does, so body is still this run's.
                    body.accept(next);
                } catch (RuntimeException | Error e) {
                    failure = e;
                } finally {
                    finished.incrementAndGet();
                }
            }
        }

        private void workerLoop() {
            long seen = generation;
            while (!closed) {
                int spins = 0;
                long waitingSince = System.nanoTime();
                while (generation == seen && !closed) {
                    if ((++spins & 63) != 0) {
                        Thread.onSpinWait();
                        continue;
                    }
                    long waited = System.nanoTime() - waitingSince;
                    if (waited < HOT_SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else if (waited < SPIN_NANOS) {
                        Thread.yield(); // a caller sharing this core must not be held off
                    } else {
                        parked.incrementAndGet();
                        if (generation == seen && !closed) {
                            LockSupport.park(this);
                        }
                        parked.decrementAndGet();
                        waitingSince = System.nanoTime();
                    }
                }
                seen = generation;
                work(seen);
            }
        }

        private void start() {
            threads = new Thread[size - 1];
            for (int w = 0; w < threads.length; w++) {
                threads[w] = new Thread(this::workerLoop, "lstm4j-java-" + (w + 1));
                threads[w].setDaemon(true);
                threads[w].start();
            }
        }

        void shutdown() {
            closed = true;
            owner.lock();
            try {
                if (threads != null) {
                    for (Thread t : threads) {
                        LockSupport.unpark(t);
                    }
                }
            } finally {
                owner.unlock();
            }
        }
    }
}
