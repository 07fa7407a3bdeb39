package dev.lstm4j.spark;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.util.Map;
import java.util.Random;

/**
 * Checks that the bundle jar runs lstm4j's native code on this machine: {@code java -jar
 * lstm4j-spark-VERSION-bundle.jar} (or {@code spark-submit --class dev.lstm4j.spark.BundleCheck}) loads
 * every backend from the jar alone (JavaCPP extracts the natives to its cache directory, see
 * {@code -Dorg.bytedeco.javacpp.cachedir}) and compares a small forward pass across them. Prints one
 * line per backend; exits 1 if a backend cannot run or disagrees with JAVA beyond 1e-5.
 */
public final class BundleCheck {
    private BundleCheck() {
    }

    /** Runs the check. */
    public static void main(String[] args) {
        LstmConfig config = LstmConfig.builder(6, 10).numLayers(2).batchFirst(true).build();
        Random rnd = new Random(1);
        Map<String, Tensor> w = RandomWeights.gaussian(config, rnd, 0.3);
        float[] x = new float[3 * 7 * 6];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        Tensor input = Tensor.of(x, 3, 7, 6);
        StateDict weights = StateDict.of(w);
        Tensor reference;
        try (Lstm java = Lstm.create(config, weights, Backend.JAVA, Device.cpu())) {
            reference = java.forward(input).output();
        }
        boolean ok = true;
        for (Backend backend : new Backend[] {Backend.NATIVE, Backend.LIBTORCH}) {
            try (Lstm lstm = Lstm.create(config, weights, backend, Device.cpu())) {
                double diff = lstm.forward(input).output().maxAbsDiff(reference);
                boolean pass = diff <= 1e-5;
                ok &= pass;
                System.out.printf("%s: loaded, max_abs_diff_vs_java=%.3g %s%n", backend, diff, pass ? "PASS" : "FAIL");
            } catch (RuntimeException | LinkageError e) {
                ok = false;
                System.out.println(backend + ": FAIL " + e);
            }
        }
        System.out.println("javacpp cachedir: " + System.getProperty("org.bytedeco.javacpp.cachedir", "(default ~/.javacpp/cache)"));
        System.out.println(ok ? "bundle OK" : "bundle FAILED");
        System.exit(ok ? 0 : 1);
    }
}
