package dev.lstm4j.jvm;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;

/**
 * The pure-Java LSTM for one element type: weights packed once for the GEMMs, then the
 * layer x direction x time scan (the same algorithm as the native core): per layer one GEMM
 * projects the inputs of all time steps for both directions, per step one GEMM with {@code W_hh}
 * and one fused gate pass writing {@code h} straight into the output (both layouts through row
 * strides), plus one GEMM with {@code W_hr} when there is a projection.
 *
 * <p>Thread-safe after construction: each thread reuses its own scratch buffers, so steady-state
 * calls allocate nothing.
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
final class JavaLstm<A> {
    private final Arith<A> ar;
    private final int inputSize;
    private final int hidden;
    private final int layers;
    private final int dirs;
    private final int proj;
    private final int hOut;
    private final boolean bias;
    private final A[] wIhT;   // per layer: (in_l, D*4H), both directions side by side
    private final A[] biasCat; // per layer: b_ih + b_hh, (D*4H), or null
    private final A[] wHhT;   // per layer*D + d: (P, 4H)
    private final A[] wHrT;   // per layer*D + d: (H, P), or null
    private final ThreadLocal<Workspace<A>> workspace;

    /** Scratch memory of one thread, grown on demand and reused across calls. */
    private static final class Workspace<A> {
        A gx;
        A gh;
        A c;
        A hFull;
        A y0;
        A y1;
        A zeros;
    }

    @SuppressWarnings("unchecked")
    JavaLstm(Arith<A> ar, LstmConfig config, StateDict weights, java.util.function.Function<dev.lstm4j.Tensor, A> data) {
        this.ar = ar;
        this.inputSize = config.inputSize();
        this.hidden = config.hiddenSize();
        this.layers = config.numLayers();
        this.dirs = config.numDirections();
        this.proj = config.projSize();
        this.hOut = config.realHiddenSize();
        this.bias = config.bias();
        int g = 4 * hidden;
        wIhT = (A[]) new Object[layers];
        biasCat = (A[]) new Object[layers];
        wHhT = (A[]) new Object[layers * dirs];
        wHrT = (A[]) new Object[layers * dirs];
        for (int l = 0; l < layers; l++) {
            int in = config.layerInputSize(l);
            A packed = ar.alloc(in * dirs * g);
            A tmp = ar.alloc(in * g);
            A b = bias ? ar.alloc(dirs * g) : null;
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                // W_ih of direction d becomes columns [d*4H, (d+1)*4H) of the packed (in, D*4H).
                ar.packTransposed(data.apply(weights.get("weight_ih" + sfx)), g, in, tmp, 0);
                for (int r = 0; r < in; r++) {
                    System.arraycopy(tmp, r * g, packed, r * dirs * g + d * g, g);
                }
                if (bias) {
                    ar.add(data.apply(weights.get("bias_ih" + sfx)), data.apply(weights.get("bias_hh" + sfx)), b,
                            d * g, g);
                }
                A hh = ar.alloc(hOut * g);
                ar.packTransposed(data.apply(weights.get("weight_hh" + sfx)), g, hOut, hh, 0);
                wHhT[l * dirs + d] = hh;
                if (proj > 0) {
                    A hr = ar.alloc(hidden * proj);
                    ar.packTransposed(data.apply(weights.get("weight_hr" + sfx)), proj, hidden, hr, 0);
                    wHrT[l * dirs + d] = hr;
                }
            }
            wIhT[l] = packed;
            biasCat[l] = b;
        }
        this.workspace = ThreadLocal.withInitial(Workspace::new);
    }

    private A ensure(A a, int n) {
        return a != null && ar.length(a) >= n ? a : ar.alloc(n);
    }

    /** See {@link dev.lstm4j.spi.LstmEngine#forward}; arrays are the flat data of the validated tensors. */
    void forward(A input, int seqLen, int batch, boolean batchFirst, A h0, A c0, A output, A hN, A cN) {
        final int T = seqLen;
        final int B = batch;
        final int H = hidden;
        final int P = hOut;
        final int D = dirs;
        final int G = 4 * H;
        final int rows = T * B;
        // Row of (t, b) in every (T*B, features) matrix: t * tRows + b * bRows, for either layout.
        final int tRows = batchFirst ? 1 : B;
        final int bRows = batchFirst ? T : 1;
        final int yCols = D * P;

        Workspace<A> ws = workspace.get();
        ws.gx = ensure(ws.gx, rows * D * G);
        ws.gh = ensure(ws.gh, B * G);
        ws.c = ensure(ws.c, B * H);
        if (proj > 0) {
            ws.hFull = ensure(ws.hFull, B * H);
        }
        if (layers > 1) {
            ws.y0 = ensure(ws.y0, rows * yCols);
        }
        if (layers > 2) {
            ws.y1 = ensure(ws.y1, rows * yCols);
        }
        A gx = ws.gx;
        A gh = ws.gh;
        A c = ws.c;

        A layerIn = input;
        int in = inputSize;
        for (int l = 0; l < layers; l++) {
            A y = l == layers - 1 ? output : (l % 2 == 0 ? ws.y0 : ws.y1);
            ar.linear(layerIn, 0, in, rows, in, wIhT[l], D * G, biasCat[l], gx, 0, D * G);
            for (int d = 0; d < D; d++) {
                int state = l * D + d;
                if (c0 != null) {
                    System.arraycopy(c0, state * B * H, c, 0, B * H);
                } else {
                    ar.zero(c, 0, B * H);
                }
                int tPrev = -1;
                for (int s = 0; s < T; s++) {
                    int t = d == 0 ? s : T - 1 - s;
                    A ghStep = null;
                    if (tPrev >= 0) {
                        ar.linear(y, tPrev * tRows * yCols + d * P, bRows * yCols, B, P, wHhT[state], G, null, gh, 0, G);
                        ghStep = gh;
                    } else if (h0 != null) {
                        ar.linear(h0, state * B * P, P, B, P, wHhT[state], G, null, gh, 0, G);
                        ghStep = gh;
                    }
                    int yOff = t * tRows * yCols + d * P;
                    int gxOff = t * tRows * D * G + d * G;
                    if (proj > 0) {
                        ar.gates(B, H, gx, gxOff, bRows * D * G, ghStep, c, 0, ws.hFull, 0, H);
                        ar.linear(ws.hFull, 0, H, B, H, wHrT[state], P, null, y, yOff, bRows * yCols);
                    } else {
                        ar.gates(B, H, gx, gxOff, bRows * D * G, ghStep, c, 0, y, yOff, bRows * yCols);
                    }
                    tPrev = t;
                }
                int last = tPrev * tRows * yCols + d * P;
                for (int b = 0; b < B; b++) {
                    System.arraycopy(y, last + b * bRows * yCols, hN, (state * B + b) * P, P);
                }
                System.arraycopy(c, 0, cN, state * B * H, B * H);
            }
            layerIn = y;
            in = yCols;
        }
    }
}
