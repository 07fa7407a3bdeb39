package dev.lstm4j.jvm;

/**
 * The numeric kernels of the pure-Java engine for one element type ({@code float[]} or {@code double[]}),
 * so that the layer/direction/time scan in {@link JavaLstm} is written once. Every call works on
 * whole rows or matrices, never single elements, so the interface call costs nothing measurable.
 *
 * @param <A> the array type
 */
interface Arith<A> {
    /** A new zeroed array. */
    A alloc(int n);

    /** Length of {@code a}. */
    int length(A a);

    /** Bytes per element: 4 for float, 8 for double. */
    int elementBytes();

    /** Zeroes {@code n} elements from {@code off}. */
    void zero(A a, int off, int n);

    /**
     * {@code out[m, j] = x[m] W^T[:, j] (+ bias[j])} for rows {@code m < rows} and columns
     * {@code [n0, n1)} of {@code out} only, on the calling thread (one part of a product split over a
     * {@link Team}), with {@code W^T} (k, n) packed in panels of blocks of {@code block} columns
     * ({@link #packTransposed}, {@link Panels}). Row {@code m} of x starts at {@code xOff + m * xStride},
     * of out at {@code outOff + m * outStride}.
     */
    void linearColumns(A x, int xOff, int xStride, int rows, int k, A wt, int block, int n, int n0, int n1, A bias,
            A out, int outOff, int outStride);

    /**
     * The fused LSTM gate pass for one step: for each batch row b, pre-activations
     * {@code gx[gxOff + b * gxStride + j] (+ gh[b * 4H + j])} in i, f, g, o order; updates
     * {@code c[cOff + b * H ..]} in place and writes {@code h[hOff + b * hStride ..]}.
     * {@code gh == null} means a zero recurrent part. Only hidden units {@code [j0, j1)} are computed.
     * {@code scratch} holds at least {@link #gateScratch gateScratch(j1 - j0)} elements (or is null
     * when that is 0); the part running these units owns it.
     */
    void gates(int batch, int hidden, int j0, int j1, A gx, int gxOff, int gxStride, A gh, A c, int cOff, A h, int hOff,
            int hStride, A scratch);

    /** Scratch elements {@link #gates} needs for {@code units} hidden units (0: none). */
    int gateScratch(int units);

    /** Whether every element of {@code a} is finite (no NaN, no infinity). */
    boolean allFinite(A a);

    /**
     * Packs {@code w} (n, k) row-major from {@code src} as {@code w^T} (k, n) in panels of blocks of
     * {@code block} columns ({@link Panels}) into {@code dst} from {@code dstOff}.
     */
    void packTransposed(A src, int n, int k, int block, A dst, int dstOff);

    /** {@code dst[i] = a[i] + b[i]}. */
    void add(A a, A b, A dst, int dstOff, int n);
}
