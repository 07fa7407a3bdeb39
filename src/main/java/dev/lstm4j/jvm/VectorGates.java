package dev.lstm4j.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 gate pass on the Vector API, lane for lane the same arithmetic as
 * {@link FloatArith#exp} and {@link FloatArith#tanh} (Cephes polynomials, a few ulps): the results
 * are bit-identical to the scalar path, and identical whether the JIT has compiled this code or
 * not. (The Vector API's own EXP and TANH are not: compiled, they are vector math routines;
 * interpreted, they are {@code Math.exp} per lane, which differ in the last bit.) Loaded only when
 * {@link VectorSupport#available()}.
 */
final class VectorGates implements GateRow {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    /** Public no-argument constructor for {@link VectorSupport#instantiate}. */
    public VectorGates() {
    }

    /** {@link FloatArith#exp}, per lane. */
    static FloatVector exp(FloatVector x) {
        x = x.min(88.3762626647949f).max(-87.3365447504f);
        // round(x * log2(e)) with the 1.5 * 2^23 trick: exact under round-to-nearest, like Math.round
        // for these magnitudes except at exact halves, which x * log2(e) never hits in float.
        FloatVector t = x.mul(1.44269504088896341f).add(12582912.0f);
        FloatVector n = t.sub(12582912.0f);
        FloatVector r = x.sub(n.mul(0.693359375f));
        r = r.add(n.mul(2.12194440e-4f));
        FloatVector p = FloatVector.broadcast(S, 1.9875691500e-4f);
        p = p.mul(r).add(1.3981999507e-3f);
        p = p.mul(r).add(8.3334519073e-3f);
        p = p.mul(r).add(4.1665795894e-2f);
        p = p.mul(r).add(1.6666665459e-1f);
        p = p.mul(r).add(5.0000001201e-1f);
        FloatVector e = p.mul(r).mul(r).add(r).add(1.0f);
        // t holds n in its low mantissa bits: 2^n is (bits(t) - bits(1.5 * 2^23) + 127) << 23.
        IntVector bits = ((IntVector) t.reinterpretAsInts()).sub(0x4B400000 - 127).lanewise(VectorOperators.LSHL, 23);
        return e.mul(bits.reinterpretAsFloats());
    }

    /** {@link FloatArith#sigmoid} over {@code s[from, to)}, in place. */
    private static void sigmoidInPlace(float[] s, int from, int to) {
        int j = from;
        for (; j + S.length() <= to; j += S.length()) {
            FloatVector x = FloatVector.fromArray(S, s, j);
            FloatVector.broadcast(S, 1.0f).div(exp(x.neg()).add(1.0f)).intoArray(s, j);
        }
        for (; j < to; j++) {
            s[j] = FloatArith.sigmoid(s[j]);
        }
    }

    /** {@link FloatArith#tanh} over {@code s[from, to)}, in place: both branches computed, the right one kept. */
    private static void tanhInPlace(float[] s, int from, int to) {
        int j = from;
        for (; j + S.length() <= to; j += S.length()) {
            FloatVector x = FloatVector.fromArray(S, s, j);
            FloatVector ax = x.abs();
            FloatVector z = x.mul(x);
            FloatVector p = FloatVector.broadcast(S, -5.70498872745e-3f);
            p = p.mul(z).add(2.06390887954e-2f);
            p = p.mul(z).sub(5.37397155531e-2f);
            p = p.mul(z).add(1.33314422036e-1f);
            p = p.mul(z).sub(3.33332819422e-1f);
            FloatVector small = p.mul(z).mul(x).add(x);
            FloatVector t = FloatVector.broadcast(S, 1.0f)
                    .sub(FloatVector.broadcast(S, 2.0f).div(exp(ax.mul(2.0f)).add(1.0f)));
            FloatVector big = t.blend(t.neg(), x.compare(VectorOperators.LT, 0f));
            big.blend(small, ax.compare(VectorOperators.LT, 0.625f)).intoArray(s, j);
        }
        for (; j < to; j++) {
            s[j] = FloatArith.tanh(s[j]);
        }
    }

    /**
     * Five floats per unit: the gate pass runs in passes over the caller's scratch, so that each pass
     * is a small loop the JIT compiles with {@link #exp} inlined (one method doing it all exceeds C2's
     * inlining budget, and every vector that crosses a call that is not inlined is boxed). The scratch
     * belongs to the engine's workspace, not to the thread: nothing stays behind in the threads that
     * called.
     */
    @Override
    public int scratch(int units) {
        return 5 * units;
    }

    @Override
    public void apply(int hidden, int j0, int j1, float[] gx, int x, float[] gh, int r, float[] c, int cb, float[] h,
            int hb, float[] scratch) {
        final int H = hidden;
        final int n = j1 - j0;
        float[] s = scratch;
        // s = [i | f | g | o | c_t] pre-activations, then activations, unit u of the part at offset u.
        for (int g = 0; g < 4; g++) {
            System.arraycopy(gx, x + g * H + j0, s, g * n, n);
            if (gh != null) {
                add(s, g * n, gh, r + g * H + j0, n);
            }
        }
        sigmoidInPlace(s, 0, 2 * n);
        tanhInPlace(s, 2 * n, 3 * n);
        sigmoidInPlace(s, 3 * n, 4 * n);
        cell(s, n, c, cb + j0);
        tanhInPlace(s, 4 * n, 5 * n);
        output(s, n, h, hb + j0);
    }

    private static void add(float[] s, int off, float[] a, int aOff, int n) {
        int j = 0;
        for (; j + S.length() <= n; j += S.length()) {
            FloatVector.fromArray(S, s, off + j).add(FloatVector.fromArray(S, a, aOff + j)).intoArray(s, off + j);
        }
        for (; j < n; j++) {
            s[off + j] += a[aOff + j];
        }
    }

    /** c_t = f * c_{t-1} + i * g, into c and into s[4n ..]. */
    private static void cell(float[] s, int n, float[] c, int cOff) {
        int j = 0;
        for (; j + S.length() <= n; j += S.length()) {
            FloatVector cn = FloatVector.fromArray(S, s, n + j).mul(FloatVector.fromArray(S, c, cOff + j))
                    .add(FloatVector.fromArray(S, s, j).mul(FloatVector.fromArray(S, s, 2 * n + j)));
            cn.intoArray(c, cOff + j);
            cn.intoArray(s, 4 * n + j);
        }
        for (; j < n; j++) {
            float cn = s[n + j] * c[cOff + j] + s[j] * s[2 * n + j];
            c[cOff + j] = cn;
            s[4 * n + j] = cn;
        }
    }

    /** h_t = o * tanh(c_t). */
    private static void output(float[] s, int n, float[] h, int hOff) {
        int j = 0;
        for (; j + S.length() <= n; j += S.length()) {
            FloatVector.fromArray(S, s, 3 * n + j).mul(FloatVector.fromArray(S, s, 4 * n + j)).intoArray(h, hOff + j);
        }
        for (; j < n; j++) {
            h[hOff + j] = s[3 * n + j] * s[4 * n + j];
        }
    }
}
