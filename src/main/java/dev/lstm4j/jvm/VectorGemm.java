package dev.lstm4j.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 GEMM on the JDK's Vector API over panel-packed weights ({@link Panels}): register tiles
 * of 4 rows x 4 vectors (two column groups of 2 vectors, each read sequentially down its panel) accumulate
 * over the whole k with FMAs, each weight vector loaded once per 4 rows; with vectors narrower than 512
 * bits (16 registers on AVX2) the tiles are 4 x 2. Rows are taken in blocks that stay in L2 while the
 * panels sweep over them. Each output element is one FMA chain over k in order (plus the bias),
 * so any split of rows or columns gives the same bits. Only loaded when {@code jdk.incubator.vector} is
 * present (see {@link SgemmKernel#best}). {@link JavaLstm} splits products over its {@link Team} by
 * columns; each call here runs on the calling thread.
 */
final class VectorGemm implements SgemmKernel {
    // A vector must lie within one panel row: at most Panels.P lanes, a divisor of it.
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED.length() <= Panels.P
            && Panels.P % FloatVector.SPECIES_PREFERRED.length() == 0 ? FloatVector.SPECIES_PREFERRED
                    : FloatVector.SPECIES_256;
    private static final int L = S.length();
    /** Rows per block: a (MB x k) block of x stays in L2 while every column strip passes over it. */
    private static final int MB = 64;
    /**
     * Whether tiles take two column groups (16 accumulators): 512-bit vectors come with 32 registers
     * (AVX-512, SVE). On JDK 17 (Zen 4, 32 rows x k=512 x 1024 columns, one thread) the 4 x 2 tile
     * ran at 78-83 GFLOP/s and the 4 x 4 tile at 104-106 (one core's peak: 116); the wider tile loads
     * 8 operands per 16 FMAs instead of 6 per 8.
     */
    private static final boolean WIDE = L >= 16;

    /** Public no-argument constructor for {@link SgemmKernel#best}. */
    public VectorGemm() {
    }

    @Override
    public void sgemmColumns(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n, int n0,
            int n1, float[] bias, float[] out, int outOff, int outStride) {
        block(x, xOff, xStride, 0, rows, k, wt, block, n, n0, n1, bias, out, outOff, outStride);
    }

    private static void block(float[] x, int xOff, int xStride, int m0, int m1, int k, float[] wt, int block, int n,
            int n0, int n1, float[] bias, float[] out, int outOff, int outStride) {
        for (int mb = m0; mb < m1; mb += MB) {
            int me = Math.min(m1, mb + MB);
            int m4 = mb + (me - mb) / 4 * 4;
            int heldW = -1; // a column group of 2 vectors waiting for a second one (WIDE): its weights
            int heldJ = -1; // and its first column
            for (int j0 = n0; j0 < n1;) {
                int run = Panels.run(j0, block, n1); // columns contiguous in one panel
                int w0 = Panels.index(0, j0, k, block);
                int j = 0;
                for (; j + 2 * L <= run; j += 2 * L) {
                    if (WIDE && heldW < 0) {
                        heldW = w0 + j;
                        heldJ = j0 + j;
                        continue;
                    }
                    for (int m = mb; m < m4; m += 4) {
                        if (WIDE) {
                            tile4x4(x, xOff + m * xStride, xStride, k, wt, heldW, heldJ, w0 + j, j0 + j, bias, out,
                                    outOff + m * outStride, outStride);
                        } else {
                            tile4x2(x, xOff + m * xStride, xStride, k, wt, w0 + j, j0 + j, bias, out,
                                    outOff + m * outStride, outStride);
                        }
                    }
                    heldW = -1;
                }
                for (; j < run; j += L) {
                    VectorMask<Float> mask = S.indexInRange(j, run);
                    for (int m = mb; m < m4; m++) {
                        tile1(x, xOff + m * xStride, k, wt, w0 + j, j0 + j, bias, out, outOff + m * outStride, mask);
                    }
                }
                j0 += run;
            }
            if (heldW >= 0) {
                for (int m = mb; m < m4; m += 4) {
                    tile4x2(x, xOff + m * xStride, xStride, k, wt, heldW, heldJ, bias, out, outOff + m * outStride,
                            outStride);
                }
            }
            // The last rows of a block (all of them when rows < 4, the streaming case): a GEMV.
            for (int m = m4; m < me; m++) {
                gemvRow(x, xOff + m * xStride, k, wt, block, n0, n1, bias, out, outOff + m * outStride);
            }
        }
    }

    /**
     * Rows x0.. (4 of them, xStride apart) times two groups of 2 vectors: columns ja.. whose rows start
     * at wt[wa], and columns jb.. whose rows start at wt[wb] (two panels, or two halves of one).
     */
    private static void tile4x4(float[] x, int x0, int xStride, int k, float[] wt, int wa, int ja, int wb, int jb,
            float[] bias, float[] out, int o0, int outStride) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        int x1 = x0 + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        for (int kk = 0; kk < k; kk++) {
            int d = kk * Panels.P;
            FloatVector w0 = FloatVector.fromArray(S, wt, wa + d);
            FloatVector w1 = FloatVector.fromArray(S, wt, wa + d + L);
            FloatVector w2 = FloatVector.fromArray(S, wt, wb + d);
            FloatVector w3 = FloatVector.fromArray(S, wt, wb + d + L);
            FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
            c00 = w0.fma(a, c00);
            c01 = w1.fma(a, c01);
            c02 = w2.fma(a, c02);
            c03 = w3.fma(a, c03);
            a = FloatVector.broadcast(S, x[x1 + kk]);
            c10 = w0.fma(a, c10);
            c11 = w1.fma(a, c11);
            c12 = w2.fma(a, c12);
            c13 = w3.fma(a, c13);
            a = FloatVector.broadcast(S, x[x2 + kk]);
            c20 = w0.fma(a, c20);
            c21 = w1.fma(a, c21);
            c22 = w2.fma(a, c22);
            c23 = w3.fma(a, c23);
            a = FloatVector.broadcast(S, x[x3 + kk]);
            c30 = w0.fma(a, c30);
            c31 = w1.fma(a, c31);
            c32 = w2.fma(a, c32);
            c33 = w3.fma(a, c33);
        }
        if (bias != null) {
            FloatVector b0 = FloatVector.fromArray(S, bias, ja);
            FloatVector b1 = FloatVector.fromArray(S, bias, ja + L);
            FloatVector b2 = FloatVector.fromArray(S, bias, jb);
            FloatVector b3 = FloatVector.fromArray(S, bias, jb + L);
            c00 = c00.add(b0);
            c01 = c01.add(b1);
            c02 = c02.add(b2);
            c03 = c03.add(b3);
            c10 = c10.add(b0);
            c11 = c11.add(b1);
            c12 = c12.add(b2);
            c13 = c13.add(b3);
            c20 = c20.add(b0);
            c21 = c21.add(b1);
            c22 = c22.add(b2);
            c23 = c23.add(b3);
            c30 = c30.add(b0);
            c31 = c31.add(b1);
            c32 = c32.add(b2);
            c33 = c33.add(b3);
        }
        int oa = o0 + ja;
        int ob = o0 + jb;
        c00.intoArray(out, oa);
        c01.intoArray(out, oa + L);
        c02.intoArray(out, ob);
        c03.intoArray(out, ob + L);
        oa += outStride;
        ob += outStride;
        c10.intoArray(out, oa);
        c11.intoArray(out, oa + L);
        c12.intoArray(out, ob);
        c13.intoArray(out, ob + L);
        oa += outStride;
        ob += outStride;
        c20.intoArray(out, oa);
        c21.intoArray(out, oa + L);
        c22.intoArray(out, ob);
        c23.intoArray(out, ob + L);
        oa += outStride;
        ob += outStride;
        c30.intoArray(out, oa);
        c31.intoArray(out, oa + L);
        c32.intoArray(out, ob);
        c33.intoArray(out, ob + L);
    }

    /** Rows x0.. (4 of them, xStride apart) times the 2 vectors of columns j.. whose rows start at wt[w]. */
    private static void tile4x2(float[] x, int x0, int xStride, int k, float[] wt, int w, int j, float[] bias,
            float[] out, int o0, int outStride) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        int x1 = x0 + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        for (int kk = 0; kk < k; kk++) {
            int wk = w + kk * Panels.P;
            FloatVector w0 = FloatVector.fromArray(S, wt, wk);
            FloatVector w1 = FloatVector.fromArray(S, wt, wk + L);
            FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
            c00 = w0.fma(a, c00);
            c01 = w1.fma(a, c01);
            a = FloatVector.broadcast(S, x[x1 + kk]);
            c10 = w0.fma(a, c10);
            c11 = w1.fma(a, c11);
            a = FloatVector.broadcast(S, x[x2 + kk]);
            c20 = w0.fma(a, c20);
            c21 = w1.fma(a, c21);
            a = FloatVector.broadcast(S, x[x3 + kk]);
            c30 = w0.fma(a, c30);
            c31 = w1.fma(a, c31);
        }
        if (bias != null) {
            FloatVector b0 = FloatVector.fromArray(S, bias, j);
            FloatVector b1 = FloatVector.fromArray(S, bias, j + L);
            c00 = c00.add(b0);
            c01 = c01.add(b1);
            c10 = c10.add(b0);
            c11 = c11.add(b1);
            c20 = c20.add(b0);
            c21 = c21.add(b1);
            c30 = c30.add(b0);
            c31 = c31.add(b1);
        }
        int o = o0 + j;
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        o += outStride;
        c10.intoArray(out, o);
        c11.intoArray(out, o + L);
        o += outStride;
        c20.intoArray(out, o);
        c21.intoArray(out, o + L);
        o += outStride;
        c30.intoArray(out, o);
        c31.intoArray(out, o + L);
    }

    /**
     * One row times W^T over columns [n0, n1): four independent accumulators (four vectors, from one
     * panel or two) so the FMA latency is hidden (one accumulator leaves the loop latency-bound,
     * about 4x slower).
     */
    private static void gemvRow(float[] x, int x0, int k, float[] wt, int block, int n0, int n1, float[] bias,
            float[] out, int o0) {
        int j = n0;
        while (j < n1) {
            // Up to four whole vectors, each inside one panel; their rows start at w[v].
            int j1 = j;
            int v = 0;
            int wa = 0;
            int wb = 0;
            int wc = 0;
            int wd = 0;
            while (v < 4 && Panels.run(j1, block, n1) >= L) {
                int w = Panels.index(0, j1, k, block);
                if (v == 0) {
                    wa = w;
                } else if (v == 1) {
                    wb = w;
                } else if (v == 2) {
                    wc = w;
                } else {
                    wd = w;
                }
                v++;
                j1 += L;
            }
            if (v == 4) {
                gemv4(x, x0, k, wt, wa, wb, wc, wd, j, bias, out, o0);
                j = j1;
            } else {
                int len = Math.min(L, Panels.run(j, block, n1));
                tile1(x, x0, k, wt, Panels.index(0, j, k, block), j, bias, out, o0, S.indexInRange(0, len));
                j += len;
            }
        }
    }

    private static void gemv4(float[] x, int x0, int k, float[] wt, int wa, int wb, int wc, int wd, int j,
            float[] bias, float[] out, int o0) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        for (int kk = 0; kk < k; kk++) {
            int d = kk * Panels.P;
            FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
            c0 = FloatVector.fromArray(S, wt, wa + d).fma(a, c0);
            c1 = FloatVector.fromArray(S, wt, wb + d).fma(a, c1);
            c2 = FloatVector.fromArray(S, wt, wc + d).fma(a, c2);
            c3 = FloatVector.fromArray(S, wt, wd + d).fma(a, c3);
        }
        if (bias != null) {
            c0 = c0.add(FloatVector.fromArray(S, bias, j));
            c1 = c1.add(FloatVector.fromArray(S, bias, j + L));
            c2 = c2.add(FloatVector.fromArray(S, bias, j + 2 * L));
            c3 = c3.add(FloatVector.fromArray(S, bias, j + 3 * L));
        }
        int o = o0 + j;
        c0.intoArray(out, o);
        c1.intoArray(out, o + L);
        c2.intoArray(out, o + 2 * L);
        c3.intoArray(out, o + 3 * L);
    }

    /** One row times the columns j.. (lanes of mask) whose rows start at wt[w]. */
    private static void tile1(float[] x, int x0, int k, float[] wt, int w, int j, float[] bias, float[] out, int o0,
            VectorMask<Float> mask) {
        FloatVector c = FloatVector.zero(S);
        for (int kk = 0; kk < k; kk++) {
            c = FloatVector.fromArray(S, wt, w + kk * Panels.P, mask).fma(FloatVector.broadcast(S, x[x0 + kk]), c);
        }
        if (bias != null) {
            c = c.add(FloatVector.fromArray(S, bias, j, mask));
        }
        c.intoArray(out, o0 + j, mask);
    }
}
