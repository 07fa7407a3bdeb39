package dev.lstm4j;

import java.util.Random;

/**
 * Child-process main of {@link LibTorchModesTest}: uses the backends in the order {@code args[0]}
 * names and prints one line per step ({@code NATIVE ok 0.0}, {@code LIBTORCH refused: ...}).
 */
public final class LibTorchModesProbe {
    private LibTorchModesProbe() {
    }

    public static void main(String[] args) {
        for (String step : args[0].split(",")) {
            if (step.startsWith("dir=")) {
                System.setProperty("lstm4j.libtorch.dir", step.substring(4));
                continue;
            }
            Backend b = Backend.valueOf(step);
            try {
                System.out.println(b + " ok " + run(b));
            } catch (IllegalStateException e) {
                System.out.println(b + " refused: " + e.getMessage());
            }
        }
        System.out.println("loadlibraries " + System.getProperty("org.bytedeco.javacpp.loadlibraries"));
    }

    /** The largest difference of a small forward pass on {@code b} from the JAVA backend's. */
    private static double run(Backend b) {
        LstmConfig config = LstmConfig.builder(3, 5).numLayers(2).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 5, DType.FLOAT32, new Random(1));
        Tensor x = TestSupport.random(new int[] {4, 2, 3}, DType.FLOAT32, new Random(2), 1.0);
        try (Lstm lstm = Lstm.create(config, w, b, Device.cpu()); Lstm java = Lstm.create(config, w, Backend.JAVA,
                Device.cpu())) {
            return lstm.forward(x).output().maxAbsDiff(java.forward(x).output());
        }
    }
}
