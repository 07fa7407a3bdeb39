package dev.lstm4j.nativ;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.TestSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Run by {@link SmallHeapTest} in a JVM with a small heap: five H=1024 NATIVE models open at once
 * (about 0.5 GB of native weights), each called with inputs large enough to be staged; prints
 * "OK" when every model gives the first one's bits.
 */
public final class SmallHeapProbe {
    private SmallHeapProbe() {}

    public static void main(String[] args) throws Exception {
        LstmConfig config = LstmConfig.builder(1024, 1024).batchFirst(true).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), 1024, DType.FLOAT32, new Random(7));
        Tensor x = TestSupport.random(new int[] {16, 8, 1024}, DType.FLOAT32, new Random(8), 1.0);
        List<Lstm> models = new ArrayList<>();
        try {
            LstmOutput first = null;
            for (int i = 0; i < 5; i++) {
                Lstm lstm = Lstm.create(config, weights, Backend.NATIVE, Device.cpu());
                models.add(lstm);
                LstmOutput out = lstm.forward(x);
                if (first == null) {
                    first = out;
                } else if (out.output().maxAbsDiff(first.output()) != 0.0 || out.cN().maxAbsDiff(first.cN()) != 0.0) {
                    throw new AssertionError("model " + i + " differs from model 0");
                }
            }
            System.out.println("OK " + models.size() + " models");
        } finally {
            for (Lstm m : models) {
                m.close();
            }
        }
    }
}
