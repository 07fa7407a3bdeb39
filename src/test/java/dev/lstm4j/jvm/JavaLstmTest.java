package dev.lstm4j.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.DType;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.TestSupport;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The JAVA engine's results do not depend on how a step is split: the same bits on 1, 2 and 3
 * threads (the shared team or a private one), and with the input projection computed step by step
 * (what a pass too large for one array of all steps' projections runs, issue 13 item 9) instead of
 * for all steps at once; padded (both layouts) and packed batches, with and without projection.
 */
class JavaLstmTest {
    @ParameterizedTest(name = "proj={0} batch_first={1} hx={2}")
    @CsvSource({"0,false,false", "0,true,true", "24,false,true", "24,true,false"})
    void sameBitsOnAnyTeamAndWithStepwiseInputProjection(int proj, boolean batchFirst, boolean hx) {
        Random rnd = new Random(5);
        LstmConfig config = LstmConfig.builder(40, 128).numLayers(3).bidirectional(true).projSize(proj)
                .batchFirst(batchFirst).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 128, DType.FLOAT32, rnd);
        int T = 6;
        int B = 5;
        int P = config.realHiddenSize();
        float[] x = TestSupport.random(new int[] {T * B * 40}, DType.FLOAT32, rnd, 1.0).floatData();
        float[] h0 = hx ? TestSupport.random(new int[] {6 * B * P}, DType.FLOAT32, rnd, 1.0).floatData() : null;
        float[] c0 = hx ? TestSupport.random(new int[] {6 * B * 128}, DType.FLOAT32, rnd, 1.0).floatData() : null;
        int[] batchSizes = {5, 5, 4, 2, 2, 1};
        int packedRows = 19;

        float[][] want = null;
        Team two = new Team(2, "test-team-", Team.IDLE_EXIT_NANOS);
        Team five = new Team(3, "test-team-", Team.IDLE_EXIT_NANOS);
        try {
            Object[][] variants = {{Team.shared(), (long) JavaLstm.MAX_ARRAY}, {new Team(1, "test-team-", Team.IDLE_EXIT_NANOS), 0L},
                {two, (long) JavaLstm.MAX_ARRAY}, {five, 0L}, {five, (long) JavaLstm.MAX_ARRAY}, {Team.shared(), 0L}};
            for (Object[] v : variants) {
                JavaLstm<float[]> lstm = new JavaLstm<>(FloatArith.INSTANCE, config, w, Tensor::floatData, (Team) v[0],
                        (Long) v[1]);
                float[] out = new float[T * B * 2 * P];
                float[] hN = new float[6 * B * P];
                float[] cN = new float[6 * B * 128];
                lstm.forward(x, T, B, batchFirst, h0, c0, out, hN, cN);
                float[] pOut = new float[packedRows * 2 * P];
                float[] pHN = new float[6 * B * P];
                float[] pCN = new float[6 * B * 128];
                lstm.forwardPacked(java.util.Arrays.copyOf(x, packedRows * 40), batchSizes, h0, c0, pOut, pHN, pCN);
                float[][] got = {out, hN, cN, pOut, pHN, pCN};
                if (want == null) {
                    want = got;
                } else {
                    for (int i = 0; i < got.length; i++) {
                        assertArrayEquals(want[i], got[i], "result " + i + " on a team of " + ((Team) v[0]).size()
                                + ", projection limit " + v[1]);
                    }
                }
            }
        } finally {
            two.close();
            five.close();
        }
        assertEquals(T * B * 2 * P, want[0].length);
    }
}
