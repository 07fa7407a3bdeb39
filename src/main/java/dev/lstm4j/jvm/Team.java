package dev.lstm4j.jvm;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
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
 * <p>One team serves every JAVA model of the process ({@link #shared()}): models borrow it per call
 * and own no threads, so the JVM's thread count does not grow with the number of live models, and a
 * model dropped without {@code close()} leaves nothing behind. The workers are daemons, at most
 * {@code availableProcessors() - 1}, started on first use; one that has waited {@link #IDLE_EXIT_NANOS}
 * without a call ends, and the next call starts it again. A run of n parts seats at most n - 1 workers
 * (a model's thread count bounds its parts): the others park instead of spinning, so a model with
 * threads=2 holds two cores, not the whole team's.
 */
final class Team {
    /** A worker parked this long without a call ends (the next call starts a new one). */
    static final long IDLE_EXIT_NANOS = 30_000_000_000L;

    private static final Team SHARED = new Team(Runtime.getRuntime().availableProcessors(), "lstm4j-java-",
            IDLE_EXIT_NANOS);

    private final Crew crew;

    /**
     * @param size      threads taking part in a step, the caller included
     * @param prefix    name prefix of the worker threads
     * @param idleNanos a worker parked this long without a call ends
     */
    Team(int size, String prefix, long idleNanos) {
        this.crew = new Crew(Math.max(1, size), prefix, idleNanos);
    }

    /** The team every JAVA model of this process borrows: one thread per core, the caller's included. */
    static Team shared() {
        return SHARED;
    }

    /** Threads taking part in a step, the caller included. */
    int size() {
        return crew.size;
    }

    /** Worker threads running now (they end after a while without a call). */
    int liveWorkers() {
        return crew.live.get();
    }

    /**
     * Runs {@code body.accept(p)} for every {@code p < parts} (at most 65535) and returns when all
     * are done; memory written by any part is then visible to the caller.
     */
    void run(int parts, IntConsumer body) {
        crew.run(parts, body);
    }

    /** Stops the workers of a team that is not {@link #shared()} (tests). */
    void close() {
        if (this != SHARED) {
            crew.shutdown();
        }
    }

    /** The state the worker threads see. */
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
        private final String prefix;
        private final long idleNanos;
        private final AtomicInteger names = new AtomicInteger();
        private final ReentrantLock owner = new ReentrantLock();
        /** Worker slots, written by the owner only; a slot whose worker ended is restarted by the next run. */
        private final Thread[] threads;
        /** Per slot: its worker ended (idle) and must be restarted. */
        private final boolean[] ended;
        private volatile boolean someEnded = true;
        final AtomicInteger live = new AtomicInteger();
        /** Workers not parked: a run unparks workers only when fewer than it seats are awake. */
        private final AtomicInteger awake = new AtomicInteger();
        /** Per slot: 1 while its worker parks (or is about to). */
        private final AtomicIntegerArray asleep;
        /** (generation << 32) | workers the current run still seats. */
        private final AtomicLong seats = new AtomicLong();
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

        Crew(int size, String prefix, long idleNanos) {
            this.size = size;
            this.prefix = prefix;
            this.idleNanos = idleNanos;
            this.threads = new Thread[size - 1];
            this.ended = new boolean[size - 1];
            this.asleep = new AtomicIntegerArray(size - 1);
            java.util.Arrays.fill(ended, true);
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
                if (someEnded) {
                    restartEnded();
                }
                long gen = generation + 1;
                this.body = body;
                failure = null;
                finished.set(0);
                claim.set(gen << 32 | (long) parts << 16);
                int helpers = Math.min(parts, size) - 1; // the caller runs a part itself
                seats.set(gen << 32 | helpers);
                generation = gen; // publishes the run
                // A worker about to park decrements awake before it reads generation (all volatile, so
                // sequentially consistent): it either counts as awake here or sees this run.
                int missing = helpers - awake.get();
                for (int w = 0; w < threads.length && missing > 0; w++) {
                    if (asleep.get(w) == 1) {
                        LockSupport.unpark(threads[w]);
                        missing--;
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
                Throwable t = failure;
                failure = null;
                if (t instanceof RuntimeException e) {
                    throw e;
                } else if (t instanceof Error e) {
                    throw e;
                }
            } finally {
                this.body = null; // the team keeps nothing of a model between calls
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

        /** Takes one of run {@code gen}'s seats, if any is left. */
        private boolean takeSeat(long gen) {
            while (true) {
                long s = seats.get();
                if (s >>> 32 != gen || (s & 0xffffffffL) == 0) {
                    return false;
                }
                if (seats.compareAndSet(s, s - 1)) {
                    return true;
                }
            }
        }

        private void workerLoop(int slot) {
            try {
                long seen = generation;
                // Not seated by the last run: park at once rather than spin for a run that wants fewer threads.
                boolean unseated = false;
                while (!closed) {
                    int spins = 0;
                    long waitingSince = System.nanoTime();
                    while (generation == seen && !closed) {
                        if (!unseated) {
                            if ((++spins & 63) != 0) {
                                Thread.onSpinWait();
                                continue;
                            }
                            long waited = System.nanoTime() - waitingSince;
                            if (waited < HOT_SPIN_NANOS) {
                                Thread.onSpinWait();
                                continue;
                            }
                            if (waited < SPIN_NANOS) {
                                Thread.yield(); // a caller sharing this core must not be held off
                                continue;
                            }
                        }
                        unseated = false;
                        long parkedSince = System.nanoTime();
                        asleep.set(slot, 1);
                        awake.decrementAndGet();
                        if (generation == seen && !closed) {
                            LockSupport.parkNanos(this, idleNanos);
                        }
                        awake.incrementAndGet();
                        asleep.set(slot, 0);
                        if (generation == seen && System.nanoTime() - parkedSince >= idleNanos) {
                            // Idle: end. A run published meanwhile is done by its caller, which
                            // claims every part no worker takes; the next run restarts this slot.
                            return;
                        }
                        waitingSince = System.nanoTime();
                    }
                    seen = generation;
                    if (takeSeat(seen)) {
                        work(seen);
                    } else {
                        unseated = true;
                    }
                }
            } finally {
                awake.decrementAndGet();
                ended[slot] = true;
                live.decrementAndGet();
                someEnded = true; // volatile write after ended[slot]: the owner sees both
            }
        }

        /** Starts a worker in every slot whose worker ended (or never started); the owner holds the lock. */
        private void restartEnded() {
            someEnded = false; // before the scan: a worker ending during it sets it again
            for (int w = 0; w < threads.length; w++) {
                if (ended[w]) {
                    ended[w] = false;
                    int slot = w;
                    Thread t = new Thread(() -> workerLoop(slot), prefix + names.incrementAndGet());
                    t.setDaemon(true);
                    // The caller's context class loader (say a web application's) must not stay
                    // reachable from a thread that outlives the call.
                    t.setContextClassLoader(null);
                    threads[w] = t;
                    live.incrementAndGet();
                    awake.incrementAndGet();
                    t.start();
                }
            }
        }

        void shutdown() {
            closed = true;
            owner.lock();
            try {
                for (Thread t : threads) {
                    if (t != null) {
                        LockSupport.unpark(t);
                    }
                }
            } finally {
                owner.unlock();
            }
        }
    }
}
