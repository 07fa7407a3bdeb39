package dev.lstm4j.jvm;

import java.util.Arrays;

/** float32 kernels: cache-blocked GEMM and a fused gate pass with fast, accurate float exp/tanh. */
final class FloatArith implements Arith<float[]> {
    /** The scalar gate pass ({@link GateRow}); it needs no scratch. Declared before INSTANCE, which uses it. */
    static final GateRow SCALAR = new GateRow() {
        @Override
        public void apply(int hidden, int j0, int j1, float[] gx, int x, float[] gh, int r, float[] c, int cb,
                float[] h, int hb, float[] scratch) {
            scalarRow(hidden, j0, j1, gx, x, gh, r, c, cb, h, hb);
        }

        @Override
        public int scratch(int units) {
            return 0;
        }
    };

    static final FloatArith INSTANCE = new FloatArith();

    private final SgemmKernel gemm = SgemmKernel.best();
    private final GateRow gateRow = bestGateRow();

    private static GateRow bestGateRow() {
        Object vector = VectorSupport.instantiate("dev.lstm4j.jvm.VectorGates");
        return vector != null ? (GateRow) vector : SCALAR;
    }

    private FloatArith() {
    }

    @Override
    public float[] alloc(int n) {
        return new float[n];
    }

    @Override
    public int length(float[] a) {
        return a.length;
    }

    @Override
    public int elementBytes() {
        return Float.BYTES;
    }

    @Override
    public void zero(float[] a, int off, int n) {
        Arrays.fill(a, off, off + n, 0f);
    }

    @Override
    public void linearColumns(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n, int n0,
            int n1, float[] bias, float[] out, int outOff, int outStride) {
        gemm.sgemmColumns(x, xOff, xStride, rows, k, wt, block, n, n0, n1, bias, out, outOff, outStride);
    }

    @Override
    public void packTransposed(float[] src, int n, int k, int block, float[] dst, int dstOff) {
        for (int j = 0; j < n; j++) {
            for (int kk = 0; kk < k; kk++) {
                dst[dstOff + Panels.index(kk, j, k, block)] = src[j * k + kk];
            }
        }
    }

    @Override
    public void add(float[] a, float[] b, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = a[i] + b[i];
        }
    }

    @Override
    public void gates(int batch, int hidden, int j0, int j1, float[] gx, int gxOff, int gxStride, float[] gh, float[] c, int cOff,
            float[] h, int hOff, int hStride, float[] scratch) {
        for (int b = 0; b < batch; b++) {
            gateRow.apply(hidden, j0, j1, gx, gxOff + b * gxStride, gh, b * 4 * hidden, c, cOff + b * hidden, h,
                    hOff + b * hStride, scratch);
        }
    }

    @Override
    public int gateScratch(int units) {
        return gateRow.scratch(units);
    }

    @Override
    public boolean allFinite(float[] a) {
        for (float v : a) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    static void scalarRow(int hidden, int j0, int j1, float[] gx, int x, float[] gh, int r, float[] c, int cb,
            float[] h, int hb) {
        for (int j = j0; j < j1; j++) {
            gateElement(hidden, j, gx, x, gh, r, c, cb, h, hb);
        }
    }

    /** One element j of the gate pass (see {@link GateRow}). */
    static void gateElement(int hidden, int j, float[] gx, int x, float[] gh, int r, float[] c, int cb, float[] h,
            int hb) {
        final int H = hidden;
        float pi = gx[x + j];
        float pf = gx[x + H + j];
        float pg = gx[x + 2 * H + j];
        float po = gx[x + 3 * H + j];
        if (gh != null) {
            pi += gh[r + j];
            pf += gh[r + H + j];
            pg += gh[r + 2 * H + j];
            po += gh[r + 3 * H + j];
        }
        float cn = sigmoid(pf) * c[cb + j] + sigmoid(pi) * tanh(pg);
        c[cb + j] = cn;
        h[hb + j] = sigmoid(po) * tanh(cn);
    }

    /** e^x for float, within a few ulps (Cephes expf): Math.exp in double is slower and not needed here. */
    static float exp(float x) {
        x = Math.min(x, 88.3762626647949f);
        x = Math.max(x, -87.3365447504f);
        // round(x * log2(e)) to nearest with the 1.5 * 2^23 trick, as the vector path does it.
        float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
        float r = x - n * 0.693359375f;
        r = r + n * 2.12194440e-4f;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        float e = p * r * r + r + 1.0f;
        return e * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    static float sigmoid(float x) {
        return 1.0f / (1.0f + exp(-x));
    }

    /** tanh for float: an odd polynomial near 0 (no cancellation), 1 - 2 / (e^{2|x|} + 1) elsewhere. */
    static float tanh(float x) {
        float ax = Math.abs(x);
        if (ax < 0.625f) {
            float z = x * x;
            float p = -5.70498872745e-3f;
            p = p * z + 2.06390887954e-2f;
            p = p * z - 5.37397155531e-2f;
            p = p * z + 1.33314422036e-1f;
            p = p * z - 3.33332819422e-1f;
            return p * z * x + x;
        }
        float t = 1.0f - 2.0f / (exp(2.0f * ax) + 1.0f);
        return x < 0 ? -t : t;
    }
}
