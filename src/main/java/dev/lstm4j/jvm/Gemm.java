package dev.lstm4j.jvm;

import java.util.stream.IntStream;

/**
 * Cache-blocked GEMM {@code out = x W^T (+ bias)} in plain Java, over {@code W^T} packed once as
 * {@code (k, n)} row-major so that the innermost loop is a contiguous axpy the JIT vectorises.
 * Large products are split over the common fork-join pool: by rows when there are many (the input
 * projection of all time steps), by column strips when there are few (a recurrent step).
 */
final class Gemm {
    /** Columns per strip: one strip of out rows stays in L1 while k runs over a block. */
    private static final int NB = 512;
    /** Rows of W^T per block: a (KB x NB) block of weights stays in L2. */
    private static final int KB = 128;
    /** Products smaller than this many flops run on the calling thread. */
    private static final long PARALLEL_FLOPS = 4_000_000L;

    private final int parallelism = Math.max(1, Runtime.getRuntime().availableProcessors());

    void sgemm(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int ldw, int n, float[] bias, float[] out,
            int outOff, int outStride) {
        long flops = 2L * rows * k * n;
        if (flops < PARALLEL_FLOPS || parallelism == 1) {
            sblock(x, xOff, xStride, 0, rows, k, wt, ldw, n, 0, n, bias, out, outOff, outStride);
            return;
        }
        if (rows >= 4 * parallelism) {
            int tasks = Math.min(rows / 4, 4 * parallelism);
            IntStream.range(0, tasks).parallel().forEach(t -> sblock(x, xOff, xStride, (int) ((long) rows * t / tasks),
                    (int) ((long) rows * (t + 1) / tasks), k, wt, ldw, n, 0, n, bias, out, outOff, outStride));
        } else {
            int strips = Math.max(1, Math.min(parallelism, n / 64));
            IntStream.range(0, strips).parallel().forEach(t -> sblock(x, xOff, xStride, 0, rows, k, wt, ldw, n,
                    n * t / strips / 16 * 16, t == strips - 1 ? n : n * (t + 1) / strips / 16 * 16, bias, out,
                    outOff, outStride));
        }
    }

    static void sblock(float[] x, int xOff, int xStride, int m0, int m1, int k, float[] wt, int ldw, int n, int n0,
            int n1, float[] bias, float[] out, int outOff, int outStride) {
        for (int s0 = n0; s0 < n1; s0 += NB) {
            int s1 = Math.min(n1, s0 + NB);
            for (int m = m0; m < m1; m++) {
                int o = outOff + m * outStride;
                for (int j = s0; j < s1; j++) {
                    out[o + j] = bias == null ? 0f : bias[j];
                }
            }
            for (int k0 = 0; k0 < k; k0 += KB) {
                int k1 = Math.min(k, k0 + KB);
                for (int m = m0; m < m1; m++) {
                    int o = outOff + m * outStride;
                    int xr = xOff + m * xStride;
                    for (int kk = k0; kk < k1; kk++) {
                        float a = x[xr + kk];
                        int w = kk * ldw;
                        for (int j = s0; j < s1; j++) {
                            out[o + j] += a * wt[w + j];
                        }
                    }
                }
            }
        }
    }

    void dgemm(double[] x, int xOff, int xStride, int rows, int k, double[] wt, int ldw, int n, double[] bias, double[] out,
            int outOff, int outStride) {
        long flops = 2L * rows * k * n;
        if (flops < PARALLEL_FLOPS || parallelism == 1) {
            dblock(x, xOff, xStride, 0, rows, k, wt, ldw, n, 0, n, bias, out, outOff, outStride);
            return;
        }
        if (rows >= 4 * parallelism) {
            int tasks = Math.min(rows / 4, 4 * parallelism);
            IntStream.range(0, tasks).parallel().forEach(t -> dblock(x, xOff, xStride, (int) ((long) rows * t / tasks),
                    (int) ((long) rows * (t + 1) / tasks), k, wt, ldw, n, 0, n, bias, out, outOff, outStride));
        } else {
            int strips = Math.max(1, Math.min(parallelism, n / 64));
            IntStream.range(0, strips).parallel().forEach(t -> dblock(x, xOff, xStride, 0, rows, k, wt, ldw, n,
                    n * t / strips / 16 * 16, t == strips - 1 ? n : n * (t + 1) / strips / 16 * 16, bias, out,
                    outOff, outStride));
        }
    }

    static void dblock(double[] x, int xOff, int xStride, int m0, int m1, int k, double[] wt, int ldw, int n, int n0,
            int n1, double[] bias, double[] out, int outOff, int outStride) {
        for (int s0 = n0; s0 < n1; s0 += NB) {
            int s1 = Math.min(n1, s0 + NB);
            for (int m = m0; m < m1; m++) {
                int o = outOff + m * outStride;
                for (int j = s0; j < s1; j++) {
                    out[o + j] = bias == null ? 0.0 : bias[j];
                }
            }
            for (int k0 = 0; k0 < k; k0 += KB) {
                int k1 = Math.min(k, k0 + KB);
                for (int m = m0; m < m1; m++) {
                    int o = outOff + m * outStride;
                    int xr = xOff + m * xStride;
                    for (int kk = k0; kk < k1; kk++) {
                        double a = x[xr + kk];
                        int w = kk * ldw;
                        for (int j = s0; j < s1; j++) {
                            out[o + j] += a * wt[w + j];
                        }
                    }
                }
            }
        }
    }
}
