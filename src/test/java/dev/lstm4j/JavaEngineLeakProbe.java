package dev.lstm4j;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Child-process main of {@link JavaEngineLeakTest}, run with a small heap: JAVA models created,
 * used and closed (or dropped) in one thread must not stay reachable, nor leave threads behind.
 * Prints {@code heapGrowthMb}, {@code collected}, {@code extraThreads} lines for the parent to check.
 */
public final class JavaEngineLeakProbe {
    private JavaEngineLeakProbe() {
    }

    public static void main(String[] args) throws Exception {
        // The case: a 2-layer H=256 model (about 3.4 MB of weights, packed once more by the engine).
        LstmConfig config = LstmConfig.builder(64, 256).numLayers(2).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), 256, DType.FLOAT32, new Random(1));
        Tensor x = TestSupport.random(new int[] {8, 2, 64}, DType.FLOAT32, new Random(2), 1.0);
        float[] first = null;
        int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
        long heapBefore = usedHeapAfterGc();
        for (int i = 0; i < 400; i++) {
            try (Lstm lstm = Lstm.create(config, weights, Backend.JAVA, Device.cpu())) {
                float[] out = lstm.forward(x).output().floatData();
                if (first == null) {
                    first = out;
                } else if (!java.util.Arrays.equals(first, out)) {
                    throw new AssertionError("cycle " + i + " gave other bits than cycle 0");
                }
            }
        }
        System.out.println("heapGrowthMb closed " + (usedHeapAfterGc() - heapBefore) / (1 << 20));
        // Dropped without close(): each must become garbage, its threads included.
        List<WeakReference<Lstm>> dropped = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Lstm lstm = Lstm.create(config, weights, Backend.JAVA, Device.cpu());
            lstm.forward(x);
            dropped.add(new WeakReference<>(lstm));
        }
        long heapDropped = usedHeapAfterGc();
        System.out.println("heapGrowthMb dropped " + (heapDropped - heapBefore) / (1 << 20));
        System.out.println("collected " + dropped.stream().filter(r -> r.get() == null).count() + " of " + dropped.size());
        System.out.println("extraThreads " + (ManagementFactory.getThreadMXBean().getThreadCount() - threadsBefore));
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
