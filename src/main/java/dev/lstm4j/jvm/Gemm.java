package dev.lstm4j.jvm;

import java.util.stream.IntStream;

/**
 * GEMM {@code out = x W^T (+ bias)} in plain Java, over {@code W^T} packed once in panels
 * ({@link Panels}), so that the innermost loop is a contiguous axpy the JIT vectorises.
 * Large products are split over the common fork-join pool: by rows when there are many (the input
 * projection of all time steps), by column strips when there are few (a recurrent step).
 */
final class Gemm {
    /** Products smaller than this many flops run on the calling thread. */
    private static final long PARALLEL_FLOPS = 4_000_000L;

    private final int parallelism = Math.max(1, Runtime.getRuntime().availableProcessors());

    void sgemm(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n, float[] bias, float[] out,
            int outOff, int outStride) {
        long flops = 2L * rows * k * n;
        if (flops < PARALLEL_FLOPS || parallelism == 1) {
            sblock(x, xOff, xStride, 0, rows, k, wt, block, n, 0, n, bias, out, outOff, outStride);
            return;
        }
        if (rows >= 4 * parallelism) {
            int tasks = Math.min(rows / 4, 4 * parallelism);
            IntStream.range(0, tasks).parallel().forEach(t -> sblock(x, xOff, xStride, (int) ((long) rows * t / tasks),
                    (int) ((long) rows * (t + 1) / tasks), k, wt, block, n, 0, n, bias, out, outOff, outStride));
        } else {
            int strips = Math.max(1, Math.min(parallelism, n / 64));
            IntStream.range(0, strips).parallel().forEach(t -> sblock(x, xOff, xStride, 0, rows, k, wt, block, n,
                    n * t / strips / 16 * 16, t == strips - 1 ? n : n * (t + 1) / strips / 16 * 16, bias, out,
                    outOff, outStride));
        }
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

    void dgemm(double[] x, int xOff, int xStride, int rows, int k, double[] wt, int block, int n, double[] bias, double[] out,
            int outOff, int outStride) {
        long flops = 2L * rows * k * n;
        if (flops < PARALLEL_FLOPS || parallelism == 1) {
            dblock(x, xOff, xStride, 0, rows, k, wt, block, n, 0, n, bias, out, outOff, outStride);
            return;
        }
        if (rows >= 4 * parallelism) {
            int tasks = Math.min(rows / 4, 4 * parallelism);
            IntStream.range(0, tasks).parallel().forEach(t -> dblock(x, xOff, xStride, (int) ((long) rows * t / tasks),
                    (int) ((long) rows * (t + 1) / tasks), k, wt, block, n, 0, n, bias, out, outOff, outStride));
        } else {
            int strips = Math.max(1, Math.min(parallelism, n / 64));
            IntStream.range(0, strips).parallel().forEach(t -> dblock(x, xOff, xStride, 0, rows, k, wt, block, n,
                    n * t / strips / 16 * 16, t == strips - 1 ? n : n * (t + 1) / strips / 16 * 16, bias, out,
                    outOff, outStride));
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
