package dev.lstm4j.jvm;

/**
 * The float32 LSTM gate pass over one batch row: pre-activations {@code gx[x ..] (+ gh[r ..])} in
 * i, f, g, o blocks of {@code hidden}; updates {@code c[cb ..]}, writes {@code h[hb ..]}, for units
 * {@code [j0, j1)}. A null {@code gh} is a zero recurrent part. Scalar in {@link FloatArith#SCALAR},
 * vectorised in {@code VectorGates}.
 */
interface GateRow {
    /** {@code scratch} holds at least {@link #scratch scratch(j1 - j0)} elements, owned by the caller's part. */
    void apply(int hidden, int j0, int j1, float[] gx, int x, float[] gh, int r, float[] c, int cb, float[] h, int hb,
            float[] scratch);

    /** Scratch elements {@link #apply} needs for {@code units} hidden units (0: none). */
    int scratch(int units);
}
