package dev.lstm4j.tools.bench;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmark of {@link Lstm#forward(Tensor)}: float32, CPU, on the {@link BenchmarkRow} grid of
 * {@code lstm4j bench}, one backend per trial. The weights are prepared once per trial in
 * {@link #setUp()}; only forward calls are timed. Built and run only in the Maven profile {@code jmh}
 * (see the README).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// platform.extension= keeps the CPU presets from probing for CUDA libraries installed on the machine.
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.platform.extension=", "--add-modules", "jdk.incubator.vector"})
public class LstmForwardBenchmark {
    /** The backend; without {@code -p backend=...} JMH runs every {@link Backend} constant. */
    @Param
    public Backend backend;

    /** The {@link BenchmarkRow} name. */
    @Param({"stream_b1_t1_h256", "b1_t128_h256", "b64_t128_h256_l2", "b64_t128_h512_l2_bi",
            "b64_t128_i512_h1024_l2_p256"})
    public String config;

    private Lstm lstm;
    private Tensor input;

    /** Creates the LSTM with the same seeded weights and input as {@code lstm4j bench}. */
    @Setup
    public void setUp() {
        BenchmarkRow row = BenchmarkRow.named(config);
        Random rnd = new Random(BenchmarkRow.SEED);
        // Throws IllegalStateException, failing this trial only, if the backend is not available here.
        lstm = Lstm.create(row.config(), row.weights(rnd), backend, Device.cpu());
        input = row.input(rnd);
    }

    /** Frees the backend's native memory. */
    @TearDown
    public void tearDown() {
        lstm.close();
    }

    /** One forward pass; the result is returned so that JMH consumes it. */
    @Benchmark
    public LstmOutput forward() {
        return lstm.forward(input);
    }
}
