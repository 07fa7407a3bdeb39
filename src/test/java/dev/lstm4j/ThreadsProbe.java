package dev.lstm4j;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Run by {@link ThreadsTest} in a fresh JVM, so that no earlier test has started a team. Mode
 * {@code caller}: models with threads=1 start no worker thread, then threads=2 models do. Mode
 * {@code many}: 300 live models (NATIVE and JAVA, mixed) cost a bounded number of threads. Mode
 * {@code default}: prints {@link ModelOptions#defaultThreads()}. Exits non-zero on a failed check.
 */
public final class ThreadsProbe {
    private ThreadsProbe() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "caller" -> caller();
            case "many" -> many();
            case "default" -> System.out.println("defaultThreads=" + ModelOptions.defaultThreads());
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /** The names of this process's threads, native ones included (/proc/self/task/N/comm). */
    static List<String> taskNames() throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    names.add(Files.readString(t.resolve("comm")).trim());
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return names;
    }

    private static long workers(List<String> names) {
        return names.stream().filter(n -> n.startsWith("lstm4j-team") || n.startsWith("lstm4j-java")).count();
    }

    /** A model big enough that both engines split its steps (H=256: above their split thresholds). */
    private static Lstm model(Backend backend, DType dtype, int threads, Random rnd) {
        LstmConfig config = LstmConfig.builder(32, 256).dtype(dtype).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 256, dtype, rnd);
        return Lstm.create(config, w, backend, Device.cpu(), ModelOptions.builder().threads(threads).build());
    }

    private static void caller() throws IOException {
        Random rnd = new Random(1);
        Tensor x = TestSupport.random(new int[] {40, 4, 32}, DType.FLOAT32, rnd, 1.0);
        for (Backend b : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            try (Lstm one = model(b, DType.FLOAT32, 1, rnd)) {
                for (int i = 0; i < 5; i++) {
                    one.forward(x);
                }
            }
        }
        List<String> after1 = taskNames();
        System.out.println("after threads=1: workers=" + workers(after1) + " threads=" + after1);
        if (workers(after1) != 0) {
            System.out.println("FAIL: threads=1 models started workers");
            System.exit(1);
        }
        for (Backend b : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            try (Lstm two = model(b, DType.FLOAT32, 2, rnd)) {
                for (int i = 0; i < 5; i++) {
                    two.forward(x);
                }
            }
        }
        List<String> after2 = taskNames();
        System.out.println("after threads=2: workers=" + workers(after2));
        // With one core the teams have no workers to start; the check above then proves less.
        if (Runtime.getRuntime().availableProcessors() >= 2 && workers(after2) < 2) {
            System.out.println("FAIL: threads=2 models started no workers");
            System.exit(1);
        }
        System.out.println("OK");
    }

    private static void many() throws IOException {
        int cores = Runtime.getRuntime().availableProcessors();
        Random rnd = new Random(2);
        // Start both engines (JavaCPP's and LibTorch's own threads) before the baseline.
        try (Lstm a = model(Backend.NATIVE, DType.FLOAT32, 1, rnd); Lstm b = model(Backend.JAVA, DType.FLOAT32, 1, rnd)) {
            a.forward(TestSupport.random(new int[] {2, 1, 32}, DType.FLOAT32, rnd, 1.0));
            b.forward(TestSupport.random(new int[] {2, 1, 32}, DType.FLOAT32, rnd, 1.0));
        }
        int before = taskNames().size();
        int jvmBefore = ManagementFactory.getThreadMXBean().getThreadCount();
        LstmConfig config = LstmConfig.builder(16, 128).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 128, DType.FLOAT32, rnd);
        Tensor x = TestSupport.random(new int[] {8, 2, 16}, DType.FLOAT32, rnd, 1.0);
        List<Lstm> live = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Backend b = i % 2 == 0 ? Backend.NATIVE : Backend.JAVA;
                // Default thread counts and a few explicit ones, so models share teams of mixed shares.
                ModelOptions o = i % 3 == 0 ? ModelOptions.defaults() : ModelOptions.builder().threads(1 + i % 4).build();
                Lstm m = Lstm.create(config, w, b, Device.cpu(), o);
                live.add(m);
                m.forward(x); // in the old design, the first call started the model's own team
            }
            for (Lstm m : live) {
                m.forward(x);
            }
            int after = taskNames().size();
            int jvmAfter = ManagementFactory.getThreadMXBean().getThreadCount();
            int bound = 2 * cores + 16;
            System.out.printf("cores=%d native threads %d -> %d, JVM threads %d -> %d, bound +%d%n", cores, before,
                    after, jvmBefore, jvmAfter, bound);
            if (after - before > bound) {
                System.out.println("FAIL: 300 models added " + (after - before) + " threads: " + taskNames());
                System.exit(1);
            }
        } finally {
            for (Lstm m : live) {
                m.close();
            }
        }
        System.out.println("OK");
    }
}
