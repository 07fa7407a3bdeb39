package dev.lstm4j.jvm;

/**
 * GEMM {@code out = x W^T (+ bias)} in plain Java over {@code W^T} packed once in panels
 * ({@link Panels}), so that the innermost loop is a contiguous axpy the JIT vectorises: the float64
 * kernel, and the float32 one where the Vector API is absent. Each call computes a block of rows and
 * columns on the calling thread; {@link JavaLstm} splits products over its {@link Team}.
 */
final class Gemm {
    private Gemm() {
    }

    static void sblock(float[] x, int xOff, int xStride, int m0, int m1, int k, float[] wt, int block, int n,
            int n0, int n1, float[] bias, float[] out, int outOff, int outStride) {
        // One panel's run of columns at a time: its rows are contiguous, so the innermost loop is
        // an axpy over at most Panels.P elements that the JIT vectorises.
        for (int j0 = n0; j0 < n1;) {
            int len = Panels.run(j0, block, n1);
            int w0 = Panels.index(0, j0, k, block);
            for (int m = m0; m < m1; m++) {
                int o = outOff + m * outStride + j0;
                int xr = xOff + m * xStride;
                for (int j = 0; j < len; j++) {
                    out[o + j] = bias == null ? 0f : bias[j0 + j];
                }
                for (int kk = 0; kk < k; kk++) {
                    float a = x[xr + kk];
                    int w = w0 + kk * Panels.P;
                    for (int j = 0; j < len; j++) {
                        out[o + j] += a * wt[w + j];
                    }
                }
            }
            j0 += len;
        }
    }

    static void dblock(double[] x, int xOff, int xStride, int m0, int m1, int k, double[] wt, int block, int n,
            int n0, int n1, double[] bias, double[] out, int outOff, int outStride) {
        // One panel's run of columns at a time: its rows are contiguous, so the innermost loop is
        // an axpy over at most Panels.P elements that the JIT vectorises.
        for (int j0 = n0; j0 < n1;) {
            int len = Panels.run(j0, block, n1);
            int w0 = Panels.index(0, j0, k, block);
            for (int m = m0; m < m1; m++) {
                int o = outOff + m * outStride + j0;
                int xr = xOff + m * xStride;
                for (int j = 0; j < len; j++) {
                    out[o + j] = bias == null ? 0.0 : bias[j0 + j];
                }
                for (int kk = 0; kk < k; kk++) {
                    double a = x[xr + kk];
                    int w = w0 + kk * Panels.P;
                    for (int j = 0; j < len; j++) {
                        out[o + j] += a * wt[w + j];
                    }
                }
            }
            j0 += len;
        }
    }
}
