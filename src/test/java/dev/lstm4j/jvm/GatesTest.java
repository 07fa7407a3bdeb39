package dev.lstm4j.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vectorised float32 gate pass gives the same bits as the scalar one, on ordinary values and on
 * the edges (saturation, overflow of exp, infinities, NaN), for unit ranges that start and end
 * anywhere. That keeps results independent of the Vector API's presence and of JIT tiers.
 */
class GatesTest {
    private static final float[] EDGES = {0f, -0f, 1e-30f, -1e-30f, 0.6249f, 0.625f, -0.625f, 9f, -9f, 20f, -20f,
        87f, -87f, 88.5f, -88.5f, 100f, -100f, 1e30f, -1e30f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.NaN};

    @Test
    void vectorPassEqualsScalarPass() {
        GateRow vector = (GateRow) VectorSupport.instantiate("dev.lstm4j.jvm.VectorGates");
        org.junit.jupiter.api.Assertions.assertTrue(vector != null || !VectorSupport.available(),
                "VectorGates failed to load although the module is present");
        if (vector == null) {
            // The pure-Java class path run: nothing to compare, the scalar pass is what runs.
            return;
        }
        Random rnd = new Random(7);
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
            FloatArith.scalarRow(hidden, j0, j1, gx, 3, withGh ? gh : null, 0, c1, 0, h1, 2);
            vector.apply(hidden, j0, j1, gx, 3, withGh ? gh : null, 0, c2, 0, h2, 2);
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
