package dev.lstm4j;

import java.util.Random;

/**
 * Child-process main of {@link ExitDuringForwardTest}: threads run long forward passes on the backend
 * {@code args[0]} without pause; once they run, the JVM is ended by {@code System.exit(3)}
 * ({@code args[1]} = {@code exit}) or by a SIGTERM from the parent ({@code term}: it prints
 * {@code running} and waits).
 */
public final class ExitDuringForwardProbe {
    private ExitDuringForwardProbe() {
    }

    public static void main(String[] args) throws Exception {
        Backend backend = Backend.valueOf(args[0]);
        LstmConfig config = LstmConfig.builder(64, 256).numLayers(2).bidirectional(true).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 256, DType.FLOAT32, new Random(1));
        Tensor x = TestSupport.random(new int[] {100, 16, 64}, DType.FLOAT32, new Random(2), 1.0);
        Lstm lstm = Lstm.create(config, w, backend, Device.cpu());
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> {
                started.countDown();
                while (true) {
                    lstm.forward(x);
                }
            }, "forward-" + i);
            t.start(); // not daemons: only the exit ends them
        }
        started.await();
        Thread.sleep(300); // well inside a forward pass
        System.out.println("running");
        System.out.flush();
        if (args[1].equals("exit")) {
            System.exit(3);
        }
        Thread.sleep(60_000);
    }
}
