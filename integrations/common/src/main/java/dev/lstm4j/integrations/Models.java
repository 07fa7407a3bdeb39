package dev.lstm4j.integrations;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.ModelOptions;
import dev.lstm4j.StateDict;

/** How the integrations turn their {@code backend}, {@code device} and {@code threads} parameters into a model. */
public final class Models {
    private Models() {
    }

    /** {@link #create(LstmConfig, StateDict, String, String, int)} with the default thread count. */
    public static Lstm create(LstmConfig config, StateDict weights, String backend, String device) {
        return create(config, weights, backend, device, 0);
    }

    /**
     * Builds the model on a worker. {@code backend} is a {@link Backend} name or {@code auto}: NATIVE,
     * falling back to JAVA on the CPU when NATIVE cannot load here (no JavaCPP natives for this platform, say).
     *
     * @param backend {@code auto}, {@code native}, {@code java} or {@code libtorch} (as {@link Backend#parse})
     * @param device  as {@link Device#parse}
     * @param threads the most threads a forward uses, or 0 for this JVM's default ({@link #threads(int)})
     * @throws IllegalArgumentException if {@code threads} is negative
     */
    public static Lstm create(LstmConfig config, StateDict weights, String backend, String device, int threads) {
        Device dev = Device.parse(device);
        ModelOptions options = options(threads);
        if (!backend.equals("auto")) {
            return Lstm.create(config, weights, Backend.parse(backend), dev, options);
        }
        try {
            return Lstm.create(config, weights, Backend.NATIVE, dev, options);
        } catch (IllegalStateException e) {
            if (!dev.isCpu()) {
                throw e;
            }
            return Lstm.create(config, weights, Backend.JAVA, dev, options);
        }
    }

    /**
     * The thread count a model gets on this worker for the parameter {@code threads}: itself if positive,
     * else {@link ModelOptions#defaultThreads()} here ({@code lstm4j.threads}, else {@code OMP_NUM_THREADS},
     * which Spark sets to {@code spark.task.cpus} on its executors, else the cores). Part of the model
     * cache key, so two jobs asking for different counts do not share a model.
     *
     * @throws IllegalArgumentException if {@code threads} is negative
     */
    public static int threads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads: expected a positive count or 0 for the default, got " + threads);
        }
        return threads > 0 ? threads : ModelOptions.defaultThreads();
    }

    private static ModelOptions options(int threads) {
        return ModelOptions.builder().threads(threads(threads)).build();
    }
}
