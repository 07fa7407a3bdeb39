package dev.lstm4j.jvm;

import java.util.Arrays;

/** float64 kernels: the same blocked GEMM in double, and the gate pass on {@link Math#exp} / {@link Math#tanh}. */
final class DoubleArith implements Arith<double[]> {
    static final DoubleArith INSTANCE = new DoubleArith();

    private DoubleArith() {
    }

    @Override
    public double[] alloc(int n) {
        return new double[n];
    }

    @Override
    public int length(double[] a) {
        return a.length;
    }

    @Override
    public int elementBytes() {
        return Double.BYTES;
    }

    @Override
    public void zero(double[] a, int off, int n) {
        Arrays.fill(a, off, off + n, 0.0);
    }

    @Override
    public void linearColumns(double[] x, int xOff, int xStride, int rows, int k, double[] wt, int block, int n, int n0,
            int n1, double[] bias, double[] out, int outOff, int outStride) {
        Gemm.dblock(x, xOff, xStride, 0, rows, k, wt, block, n, n0, n1, bias, out, outOff, outStride);
    }

    @Override
    public int gateScratch(int units) {
        return 0;
    }

    @Override
    public boolean allFinite(double[] a) {
        for (double v : a) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void packTransposed(double[] src, int n, int k, int block, double[] dst, int dstOff) {
        for (int j = 0; j < n; j++) {
            for (int kk = 0; kk < k; kk++) {
                dst[dstOff + Panels.index(kk, j, k, block)] = src[j * k + kk];
            }
        }
    }

    @Override
    public void add(double[] a, double[] b, double[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = a[i] + b[i];
        }
    }

    @Override
    public void gates(int batch, int hidden, int j0, int j1, double[] gx, int gxOff, int gxStride, double[] gh, double[] c, int cOff,
            double[] h, int hOff, int hStride, double[] scratch) {
        final int H = hidden;
        for (int b = 0; b < batch; b++) {
            int x = gxOff + b * gxStride;
            int r = b * 4 * H;
            int cb = cOff + b * H;
            int hb = hOff + b * hStride;
            for (int j = j0; j < j1; j++) {
                double pi = gx[x + j];
                double pf = gx[x + H + j];
                double pg = gx[x + 2 * H + j];
                double po = gx[x + 3 * H + j];
                if (gh != null) {
                    pi += gh[r + j];
                    pf += gh[r + H + j];
                    pg += gh[r + 2 * H + j];
                    po += gh[r + 3 * H + j];
                }
                double i = 1.0 / (1.0 + Math.exp(-pi));
                double f = 1.0 / (1.0 + Math.exp(-pf));
                double g = Math.tanh(pg);
                double o = 1.0 / (1.0 + Math.exp(-po));
                double cn = f * c[cb + j] + i * g;
                c[cb + j] = cn;
                h[hb + j] = o * Math.tanh(cn);
            }
        }
    }
}
