package dev.lstm4j.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 gate pass on the Vector API: the JIT maps EXP and TANH to vector math routines, about
 * 7x faster than the scalar loop at hidden 256, within an ulp of it. Loaded only when
 * {@link VectorSupport#available()}.
 */
final class VectorGates implements GateRow {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Public no-argument constructor for {@link VectorSupport#instantiate}. */
    public VectorGates() {
    }

    private static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    @Override
    public void apply(int hidden, int j0, int j1, float[] gx, int x, float[] gh, int r, float[] c, int cb, float[] h, int hb) {
        final int H = hidden;
        final int L = S.length();
        int j = j0;
        for (; j + L <= j1; j += L) {
            FloatVector pi = FloatVector.fromArray(S, gx, x + j);
            FloatVector pf = FloatVector.fromArray(S, gx, x + H + j);
            FloatVector pg = FloatVector.fromArray(S, gx, x + 2 * H + j);
            FloatVector po = FloatVector.fromArray(S, gx, x + 3 * H + j);
            if (gh != null) {
                pi = pi.add(FloatVector.fromArray(S, gh, r + j));
                pf = pf.add(FloatVector.fromArray(S, gh, r + H + j));
                pg = pg.add(FloatVector.fromArray(S, gh, r + 2 * H + j));
                po = po.add(FloatVector.fromArray(S, gh, r + 3 * H + j));
            }
            FloatVector cn = sigmoid(pf).mul(FloatVector.fromArray(S, c, cb + j))
                    .add(sigmoid(pi).mul(pg.lanewise(VectorOperators.TANH)));
            cn.intoArray(c, cb + j);
            sigmoid(po).mul(cn.lanewise(VectorOperators.TANH)).intoArray(h, hb + j);
        }
        for (; j < j1; j++) {
            FloatArith.gateElement(H, j, gx, x, gh, r, c, cb, h, hb);
        }
    }
}
