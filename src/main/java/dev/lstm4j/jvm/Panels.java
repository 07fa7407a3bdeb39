package dev.lstm4j.jvm;

/**
 * The layout of a packed {@code W^T} (k rows, n columns), as the native core packs it: the columns
 * form blocks of {@code block} (an LSTM's gate blocks, so that a range of hidden units starts a
 * panel in every gate); each block is cut into panels of {@link #P} columns, the last one
 * zero-padded; a panel holds its k rows one after another. A register tile then walks its panel
 * sequentially, one 128-byte row per k, instead of striding through a {@code (k, n)} matrix a page
 * per row (which missed the TLB and the prefetchers on every row).
 */
final class Panels {
    /** Columns per panel. */
    static final int P = 32;

    private Panels() {
    }

    static int perBlock(int block) {
        return (block + P - 1) / P;
    }

    /** Elements of a packed {@code W^T} with n columns (a multiple of block); may exceed an array's limit. */
    static long size(int k, int n, int block) {
        return (long) (n / block) * perBlock(block) * P * k;
    }

    /** Where element (kk, j) lies. */
    static int index(int kk, int j, int k, int block) {
        int b = j / block;
        int c = j % block;
        return ((b * perBlock(block) + c / P) * k + kk) * P + c % P;
    }

    /**
     * How many columns from column j on lie in j's panel (and block), at most {@code limit - j}: the
     * run whose rows are contiguous in memory, starting at {@code index(kk, j, k, block)}.
     */
    static int run(int j, int block, int limit) {
        int c = j % block;
        return Math.min(Math.min(P - c % P, block - c), limit - j);
    }
}
