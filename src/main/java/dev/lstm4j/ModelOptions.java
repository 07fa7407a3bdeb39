package dev.lstm4j;

import java.util.Objects;

/**
 * How a model runs, apart from what it computes: today its thread count. Immutable; build one with
 * {@link #builder()} and pass it to {@link Lstm#create(LstmConfig, StateDict, Backend, Device, ModelOptions)}
 * or {@link LstmCell#create(LstmCellConfig, StateDict, Backend, Device, ModelOptions)}.
 *
 * <pre>{@code
 * Lstm lstm = Lstm.create(config, weights, Backend.NATIVE, Device.cpu(),
 *         ModelOptions.builder().threads(2).build());
 * }</pre>
 *
 * <p><b>Threads.</b> A model's forward uses at most {@link #threads()} threads, the calling thread
 * included; {@code 1} runs on the caller only. The threads are not the model's: NATIVE and JAVA each
 * keep one process-wide team (at most the machine's hardware threads; NATIVE at most 16) that every
 * model borrows per call, so 300 live models cost no more threads than one. A call that finds the
 * team busy with another call runs on its own thread; the results are the same bits with any
 * number of threads. LIBTORCH's thread pool is LibTorch's and process-wide: the first LIBTORCH model
 * created sets it ({@code at::set_num_threads}) and later models share it whatever they ask for.
 *
 * <p>Unset, the count is {@link #defaultThreads()}: the system property {@value #THREADS_PROPERTY}
 * if set, else the environment's {@code OMP_NUM_THREADS} (which Spark sets to
 * {@code spark.task.cpus} on its executors), else {@link Runtime#availableProcessors()}.
 */
public final class ModelOptions {
    /** The system property giving the default thread count of every model that sets none. */
    public static final String THREADS_PROPERTY = "lstm4j.threads";

    private static final ModelOptions DEFAULTS = new ModelOptions(0);

    /** 0: unset (the default, resolved when a model is created). */
    private final int threads;

    private ModelOptions(int threads) {
        this.threads = threads;
    }

    /** The defaults: the thread count of {@link #defaultThreads()}. */
    public static ModelOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The most threads a forward uses, the caller included: the count set, or {@link #defaultThreads()}
     * (read now) when none was.
     *
     * @throws IllegalArgumentException if the count comes from a malformed {@value #THREADS_PROPERTY}
     */
    public int threads() {
        return threads > 0 ? threads : defaultThreads();
    }

    /** Whether a thread count was set on the builder (otherwise {@link #threads()} is the default). */
    public boolean threadsSet() {
        return threads > 0;
    }

    /**
     * The thread count of a model that sets none: {@value #THREADS_PROPERTY} if set (a positive
     * integer), else {@code OMP_NUM_THREADS} if it is a positive integer (its first entry, for
     * OpenMP's nested list form "4,2"; other values are ignored, as OpenMP ignores them), else
     * {@link Runtime#availableProcessors()}.
     *
     * @throws IllegalArgumentException if {@value #THREADS_PROPERTY} is set but not a positive integer
     */
    public static int defaultThreads() {
        String p = System.getProperty(THREADS_PROPERTY);
        if (p != null) {
            int n = positive(p.trim());
            if (n < 1) {
                throw new IllegalArgumentException(THREADS_PROPERTY + ": expected a positive integer, got '" + p + "'");
            }
            return n;
        }
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp != null) {
            int comma = omp.indexOf(',');
            int n = positive((comma >= 0 ? omp.substring(0, comma) : omp).trim());
            if (n >= 1) {
                return n;
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** {@code s} as a positive int, or -1. */
    private static int positive(String s) {
        try {
            int n = Integer.parseInt(s);
            return n >= 1 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelOptions m && m.threads == threads;
    }

    @Override
    public int hashCode() {
        return Objects.hash(threads);
    }

    @Override
    public String toString() {
        return "ModelOptions(threads=" + (threads > 0 ? Integer.toString(threads) : "default") + ")";
    }

    /** Builds {@link ModelOptions}. */
    public static final class Builder {
        private int threads;

        private Builder() {
        }

        /**
         * The most threads a forward uses, the caller included; 1 runs on the calling thread only.
         * Counts above the process-wide team's size run on the whole team.
         *
         * @throws IllegalArgumentException if {@code threads} is not positive
         */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads: expected a positive count, got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** The options. */
        public ModelOptions build() {
            return threads == 0 ? DEFAULTS : new ModelOptions(threads);
        }
    }
}
