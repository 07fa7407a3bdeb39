package dev.lstm4j.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float32 gate pass: the scalar one (what runs without the Vector API) against a float64
 * reference, and the vectorised one bit for bit against the scalar one, on ordinary values and on
 * the edges (saturation, overflow of exp, infinities, NaN), for unit ranges that start and end
 * anywhere. That keeps results independent of the Vector API's presence and of JIT tiers.
 */
class GatesTest {
    private static final float[] EDGES = {0f, -0f, 1e-30f, -1e-30f, 0.6249f, 0.625f, -0.625f, 9f, -9f, 20f, -20f,
        87f, -87f, 88.5f, -88.5f, 100f, -100f, 1e30f, -1e30f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.NaN};

    @Test
    void scalarPassMatchesFloat64Reference() {
        Random rnd = new Random(3);
        double worst = 0;
        for (int trial = 0; trial < 200; trial++) {
            int hidden = 1 + rnd.nextInt(40);
            float[] gx = new float[4 * hidden];
            float[] gh = new float[4 * hidden];
            float[] c = new float[hidden];
            for (int i = 0; i < gx.length; i++) {
                gx[i] = (float) (rnd.nextGaussian() * 4);
                gh[i] = (float) (rnd.nextGaussian() * 4);
            }
            for (int i = 0; i < hidden; i++) {
                c[i] = (float) (rnd.nextGaussian() * 4);
            }
            float[] c1 = c.clone();
            float[] h1 = new float[hidden];
            FloatArith.SCALAR.apply(hidden, 0, hidden, gx, 0, gh, 0, c1, 0, h1, 0, null);
            for (int j = 0; j < hidden; j++) {
                double i = sigmoid((double) gx[j] + gh[j]);
                double f = sigmoid((double) gx[hidden + j] + gh[hidden + j]);
                double g = Math.tanh((double) gx[2 * hidden + j] + gh[2 * hidden + j]);
                double o = sigmoid((double) gx[3 * hidden + j] + gh[3 * hidden + j]);
                double cn = f * c[j] + i * g;
                double hn = o * Math.tanh(cn);
                worst = Math.max(worst, Math.abs(cn - c1[j]) / Math.max(1, Math.abs(cn)));
                worst = Math.max(worst, Math.abs(hn - h1[j]));
            }
        }
        assertTrue(worst < 2e-6, "worst error of the scalar float32 gate pass: " + worst);
        // A NaN pre-activation gives NaN c and h for that unit only.
        float[] gx = {Float.NaN, 0.5f, 0.25f, 1f, -0.5f, 2f, 1f, 0.1f};
        float[] c = {0.3f, -0.2f};
        float[] h = new float[2];
        FloatArith.SCALAR.apply(2, 0, 2, gx, 0, null, 0, c, 0, h, 0, null);
        assertTrue(Float.isNaN(c[0]) && Float.isNaN(h[0]), "unit 0: c " + c[0] + ", h " + h[0]);
        assertTrue(Float.isFinite(c[1]) && Float.isFinite(h[1]), "unit 1: c " + c[1] + ", h " + h[1]);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void vectorPassEqualsScalarPass() {
        // The build's test runs add jdk.incubator.vector; run by hand without it, this test is skipped.
        assumeTrue(VectorSupport.available(), "the Vector API module is not in this JVM");
        GateRow vector = (GateRow) VectorSupport.instantiate("dev.lstm4j.jvm.VectorGates");
        assertNotNull(vector, "VectorGates failed to load although the module is present");
        Random rnd = new Random(7);
        float[] scratch = new float[0];
        for (int trial = 0; trial < 200; trial++) {
            int hidden = 1 + rnd.nextInt(80);
            int j0 = rnd.nextInt(hidden);
            int j1 = j0 + 1 + rnd.nextInt(hidden - j0);
            float[] gx = new float[4 * hidden + 3];
            float[] gh = new float[4 * hidden];
            float[] c = new float[hidden];
            for (int i = 0; i < gx.length; i++) {
                gx[i] = value(rnd);
            }
            for (int i = 0; i < gh.length; i++) {
                gh[i] = value(rnd);
            }
            for (int i = 0; i < c.length; i++) {
                c[i] = value(rnd);
            }
            boolean withGh = trial % 3 != 0;
            float[] c1 = c.clone();
            float[] c2 = c.clone();
            float[] h1 = new float[hidden + 2];
            float[] h2 = new float[hidden + 2];
            FloatArith.SCALAR.apply(hidden, j0, j1, gx, 3, withGh ? gh : null, 0, c1, 0, h1, 2, null);
            // Scratch reused across trials, as a workspace reuses it across calls.
            if (scratch.length < vector.scratch(j1 - j0)) {
                scratch = new float[vector.scratch(j1 - j0)];
            }
            vector.apply(hidden, j0, j1, gx, 3, withGh ? gh : null, 0, c2, 0, h2, 2, scratch);
            for (int j = 0; j < hidden; j++) {
                assertEquals(Float.floatToIntBits(c1[j]), Float.floatToIntBits(c2[j]),
                        "c[" + j + "] trial " + trial + ": " + c1[j] + " vs " + c2[j]);
            }
            for (int j = 0; j < h1.length; j++) {
                assertEquals(Float.floatToIntBits(h1[j]), Float.floatToIntBits(h2[j]),
                        "h[" + j + "] trial " + trial + ": " + h1[j] + " vs " + h2[j]);
            }
        }
    }

    private static float value(Random rnd) {
        return rnd.nextInt(4) == 0 ? EDGES[rnd.nextInt(EDGES.length)] : (float) (rnd.nextGaussian() * 4);
    }
}
