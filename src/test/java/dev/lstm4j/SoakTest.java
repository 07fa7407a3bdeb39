package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many forward calls of a small model, batched and streamed single steps, on NATIVE and JAVA, in a
 * child JVM whose heap is fixed and touched up front: after a warm-up its resident memory and
 * JavaCPP's native byte count stay flat. Resident memory is read after the warm-up (half the calls)
 * and twice more, a quarter of the calls apart: a leak grows it in both quarters, while the JIT
 * compiler's memory, which a late C2 compilation can add at once (measured up to 11 MB), grows it
 * in one. {@code -Dlstm4j.soak.calls=100000} runs the long form (default 20000).
 */
class SoakTest {
    /**
     * RSS growth allowed in the quieter of the two measured quarters: a leak of 1 kB per call exceeds
     * it over the default 5000 calls of a quarter.
     */
    private static final long QUARTER_BOUND_BYTES = 4L << 20;
    /** RSS growth allowed over both quarters together (allocator caches, JIT code). */
    private static final long BOUND_BYTES = 32L << 20;

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"NATIVE", "JAVA"})
    void memoryStaysFlat(Backend backend) throws Exception {
        int calls = Integer.getInteger("lstm4j.soak.calls", 20000);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-Xss4m", "-Dorg.bytedeco.javacpp.platform.extension=",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Probe.class.getName(), backend.name(), Integer.toString(calls));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        String line = out.lines().filter(l -> l.startsWith("soak ")).findFirst().orElseThrow(() -> new AssertionError(out));
        System.out.println(line);
        String[] f = line.split(" ");
        long rssGrowth = Long.parseLong(f[3]);
        long javacppGrowth = Long.parseLong(f[5]);
        long quieter = Math.min(Long.parseLong(f[7]), Long.parseLong(f[8]));
        assertTrue(quieter < QUARTER_BOUND_BYTES, backend + ": resident memory grew by " + quieter
                + " bytes in each quarter at least: " + line);
        assertTrue(rssGrowth < BOUND_BYTES, backend + ": resident memory grew by " + rssGrowth + " bytes: " + line);
        assertTrue(javacppGrowth <= 0, backend + ": JavaCPP's native bytes grew by " + javacppGrowth + ": " + line);
    }

    /**
     * The child: {@code BACKEND CALLS}; prints
     * {@code soak BACKEND CALLS rssGrowth javacpp javacppGrowth rss quarter1Growth quarter2Growth}.
     */
    public static final class Probe {
        public static void main(String[] args) throws IOException {
            Backend backend = Backend.valueOf(args[0]);
            int calls = Integer.parseInt(args[1]);
            LstmConfig config = LstmConfig.builder(16, 32).numLayers(2).build();
            StateDict w = TestSupport.randomWeights(config.parameterShapes(), 32, DType.FLOAT32, new Random(1));
            Random rnd = new Random(2);
            Tensor batch = TestSupport.random(new int[] {8, 4, 16}, DType.FLOAT32, rnd, 1.0);
            Tensor step = TestSupport.random(new int[] {1, 4, 16}, DType.FLOAT32, rnd, 1.0);
            Tensor out = Tensor.zeros(DType.FLOAT32, 1, 4, 32);
            long rss0 = 0;
            long rssMid = 0;
            long jcpp0 = 0;
            try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu())) {
                LstmState state = lstm.newState(4);
                int warmup = calls / 2;
                for (int i = 0; i < calls; i++) {
                    if (i == warmup) {
                        System.gc();
                        rss0 = rss();
                        jcpp0 = Pointer.totalBytes();
                    } else if (i == warmup + calls / 4) {
                        System.gc();
                        rssMid = rss();
                    }
                    if (i % 2 == 0) {
                        lstm.forward(batch);
                    } else {
                        lstm.forwardInto(step, state, out);
                    }
                }
            }
            System.gc();
            long rss1 = rss();
            long jcpp1 = Pointer.totalBytes();
            System.out.printf("soak %s %d %d %d %d %d %d %d%n", backend, calls, rss1 - rss0, jcpp1, jcpp1 - jcpp0, rss1,
                    rssMid - rss0, rss1 - rssMid);
        }

        private static long rss() throws IOException {
            String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(statm[1]) * 4096;
        }
    }
}
