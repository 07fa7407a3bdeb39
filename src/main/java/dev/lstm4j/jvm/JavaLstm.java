package dev.lstm4j.jvm;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.util.ArrayDeque;
import java.util.function.Function;

/**
 * The pure-Java LSTM for one element type: weights packed once for the GEMMs, then the
 * layer x direction x time scan (the same algorithm as the native core): per layer one GEMM
 * projects the inputs of all time steps for both directions, per step one GEMM with {@code W_hh}
 * and one fused gate pass writing {@code h} straight into the output (both layouts through row
 * strides), plus one GEMM with {@code W_hr} when there is a projection. When the input projection of
 * all steps would not fit in one Java array, each step projects its own inputs just before its gate
 * pass (the same bits: every output element is one FMA chain over k whatever the rows around it).
 * The time loop of a large batch is split over the team by batch rows (each thread carries its rows
 * through every step), a small batch's every step by hidden units ({@link #rowSplitParts}).
 *
 * <p>Thread-safe after construction: a call takes a workspace from this model's pool (or makes one)
 * and gives it back, so concurrent calls never share scratch memory and steady-state calls allocate
 * nothing. The threads that split a step are borrowed from the process-wide {@link Team}; nothing of
 * the model stays in them or in the calling threads, so an unreachable model is garbage like any
 * other object.
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
final class JavaLstm<A> {
    /** The largest array HotSpot allocates (it refuses {@code Integer.MAX_VALUE - 1} and above). */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Arith<A> ar;
    private final int inputSize;
    private final int hidden;
    private final int layers;
    private final int dirs;
    private final int proj;
    private final int hOut;
    private final boolean bias;
    // W^T packed in panels (Panels) whose column blocks are one gate (H columns); W_hr^T in one block
    private final A[] wIhT;   // per layer: (in_l, D*4H), both directions side by side
    private final A[] biasCat; // per layer: b_ih + b_hh, (D*4H), or null
    private final A[] wHhT;   // per layer*D + d: (P, 4H)
    private final A[] wHrT;   // per layer*D + d: (H, P), or null
    /**
     * Whether every {@code W_hh} element is finite. Only then may a zero initial state skip
     * {@code W_hh h0}: PyTorch computes it, and NaN * 0 (or Inf * 0) is NaN, not 0.
     */
    private final boolean whhFinite;
    private final Team team;
    /** Parts a phase is split into at most: this model's thread count, capped at the team's size. */
    private final int threads;
    /** How the time loop is split: per shape unless {@link Split#ENV} forces one (measurements). */
    private final Split split = Split.fromEnvironment();
    /** Above this many elements the input projection is computed step by step (tests lower it). */
    private final long gxLimit;
    /** Workspaces of finished calls (an ArrayDeque, unlike a linked deque, allocates nothing per call). */
    private final ArrayDeque<Workspace<A>> idle = new ArrayDeque<>();

    /**
     * Products of a step below this many flops run on the calling thread: splitting them would save
     * less than the hand-off costs. At B=1 the 1 MB {@code W_hh^T} of H=256 is above it, and split in
     * two it fits the L2 caches of two cores (measured 30 us on one core, 5.4 us per half).
     */
    private static final long SPLIT_FLOPS = 1L << 17;
    /** Hidden units or output columns per part stay a multiple of this (a 512-bit vector of floats). */
    private static final int ALIGN = 16;
    /** The row split gives every part at least this many batch rows (see {@link #rowSplitParts}). */
    static final int ROWS_PER_PART = 16;
    /** Rows per part of the row split stay a multiple of the GEMM's 4-row register tile. */
    private static final int ROW_ALIGN = 4;

    /** Scratch memory of one call, grown on demand and reused by later calls of this model. */
    private static final class Workspace<A> {
        A gx;
        A gh;
        A c;
        A hFull;
        A y0;
        A y1;
        final Step<A> step;
        /** The row split's parts: each its own step, recurrent products, input projections, unprojected h. */
        final Rows<A> rows;
        int[] row0 = new int[0];
        int[] n = new int[0];

        Workspace(JavaLstm<A> m) {
            step = new Step<>(m);
            rows = new Rows<>(m);
        }

        int[] row0(int steps) {
            if (row0.length < steps) {
                row0 = new int[steps];
            }
            return row0;
        }

        int[] n(int steps) {
            if (n.length < steps) {
                n = new int[steps];
            }
            return n;
        }
    }

    /** An LSTM on all of the process-wide {@link Team#shared()} team. */
    JavaLstm(Arith<A> ar, LstmConfig config, StateDict weights, Function<Tensor, A> data) {
        this(ar, config, weights, data, Team.shared(), MAX_ARRAY);
    }

    /** An LSTM on at most {@code threads} threads of the process-wide team, the caller included. */
    JavaLstm(Arith<A> ar, LstmConfig config, StateDict weights, Function<Tensor, A> data, int threads) {
        this(ar, config, weights, data, Team.shared(), MAX_ARRAY, threads);
    }

    JavaLstm(Arith<A> ar, LstmConfig config, StateDict weights, Function<Tensor, A> data, Team team, long gxLimit) {
        this(ar, config, weights, data, team, gxLimit, team.size());
    }

    /**
     * @param team    the threads that split a step
     * @param threads the most of them a step uses, the caller included (at most the team's size)
     * @param gxLimit above this many elements the input projection runs step by step
     * @throws IllegalArgumentException if a packed weight would exceed a Java array
     */
    @SuppressWarnings("unchecked")
    JavaLstm(Arith<A> ar, LstmConfig config, StateDict weights, Function<Tensor, A> data, Team team, long gxLimit,
            int threads) {
        this.ar = ar;
        this.team = team;
        this.threads = Math.max(1, Math.min(threads, team.size()));
        this.gxLimit = Math.min(gxLimit, MAX_ARRAY);
        this.inputSize = config.inputSize();
        this.hidden = config.hiddenSize();
        this.layers = config.numLayers();
        this.dirs = config.numDirections();
        this.proj = config.projSize();
        this.hOut = config.realHiddenSize();
        this.bias = config.bias();
        int g = 4 * hidden; // LstmConfig keeps 4 * hidden_size within an int
        wIhT = (A[]) new Object[layers];
        biasCat = (A[]) new Object[layers];
        wHhT = (A[]) new Object[layers * dirs];
        wHrT = (A[]) new Object[layers * dirs];
        boolean finite = true;
        for (int l = 0; l < layers; l++) {
            int in = config.layerInputSize(l);
            A packed = alloc(Panels.size(in, dirs * g, hidden), "weight_ih_l" + l + " (packed, both directions)");
            A b = bias ? alloc((long) dirs * g, "bias_ih_l" + l + " + bias_hh_l" + l + " (both directions)") : null;
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                // W_ih of direction d becomes columns [d*4H, (d+1)*4H) of the packed (in, D*4H).
                ar.packTransposed(data.apply(weights.get("weight_ih" + sfx)), g, in, hidden, packed,
                        (int) Panels.size(in, d * g, hidden));
                if (bias) {
                    ar.add(data.apply(weights.get("bias_ih" + sfx)), data.apply(weights.get("bias_hh" + sfx)), b,
                            d * g, g);
                }
                A whh = data.apply(weights.get("weight_hh" + sfx));
                finite &= ar.allFinite(whh);
                A hh = alloc(Panels.size(hOut, g, hidden), "weight_hh" + sfx + " (packed)");
                ar.packTransposed(whh, g, hOut, hidden, hh, 0);
                wHhT[l * dirs + d] = hh;
                if (proj > 0) {
                    A hr = alloc(Panels.size(hidden, proj, proj), "weight_hr" + sfx + " (packed)");
                    ar.packTransposed(data.apply(weights.get("weight_hr" + sfx)), proj, hidden, proj, hr, 0);
                    wHrT[l * dirs + d] = hr;
                }
            }
            wIhT[l] = packed;
            biasCat[l] = b;
        }
        this.whhFinite = finite;
    }

    private A alloc(long n, String what) {
        if (n > MAX_ARRAY) {
            throw new IllegalArgumentException(what + ": the JAVA backend would need " + n
                    + " elements in one array, more than a Java array holds (" + MAX_ARRAY
                    + "); use the NATIVE backend");
        }
        return ar.alloc((int) n);
    }

    /**
     * Runs one phase: the input projection of a layer (or of a step) over output columns, the
     * recurrent product and gate pass of a step over hidden units, or the projection of a step over
     * output columns; split over the team when big enough to pay for the hand-off.
     */
    private void run(Step<A> step, int rows, int k, int width, int columnsPerUnit, int align, boolean alone) {
        step.width = width;
        step.align = align;
        long flops = 2L * rows * k * width * columnsPerUnit;
        boolean product = step.mode != Step.GATES_ONLY; // a gate pass alone is not worth a hand-off
        int parts = alone || !product || flops < SPLIT_FLOPS ? 1 : Math.max(1, Math.min(threads, width / align));
        step.parts = parts;
        if (parts == 1) {
            step.accept(0);
        } else {
            team.run(parts, step);
        }
    }

    /** Drops the pooled workspaces; the threads are the process's, not this model's. */
    void close() {
        synchronized (idle) {
            idle.clear();
        }
    }

    /**
     * One phase of the scan as {@link Team} parts, reused so that a step allocates nothing. Part p
     * owns units {@code [lo(p), lo(p + 1))}: output columns of a product, or, for a recurrent step,
     * hidden units: its columns of the i, f, g and o blocks of {@code W_hh^T}, then its units of the
     * gate pass.
     */
    private static final class Step<A> implements java.util.function.IntConsumer {
        static final int INPUT = 0;
        static final int RECURRENT = 1;
        static final int GATES_ONLY = 2;
        static final int PROJECTION = 3;

        final JavaLstm<A> m;
        /** Per part: the gate pass's scratch ({@link Arith#gateScratch}); part p is the only user of slot p. */
        final A[] scratch;
        int mode;
        int batch;
        // product operands (INPUT, PROJECTION; the recurrent x in RECURRENT)
        A x;
        int xOff;
        int xStride;
        int k;
        A w;
        int block;
        int n;
        /** INPUT, PROJECTION: unit u is output column colOff + u. */
        int colOff;
        A bias;
        A out;
        int outOff;
        int outStride;
        // gate pass (RECURRENT, GATES_ONLY)
        A gx;
        int gxOff;
        int gxStride;
        A gh;
        A c;
        int cOff;
        A h;
        int hOff;
        int hStride;
        int width;
        int align;
        int parts;
        // RECURRENT with a packed batch: rows [split, batch) take h_{t-1} from x2 (the initial state
        // of sequences that start at this step), or zero when x2 is null.
        int split;
        A x2;
        int x2Off;
        int x2Stride;

        @SuppressWarnings("unchecked")
        Step(JavaLstm<A> m) {
            this.m = m;
            this.scratch = (A[]) new Object[m.threads];
        }

        void startingRows(int split, A x2, int x2Off, int x2Stride) {
            this.split = split;
            this.x2 = x2;
            this.x2Off = x2Off;
            this.x2Stride = x2Stride;
        }

        void product(int mode, A x, int xOff, int xStride, int rows, int k, A w, int block, int n, A bias, A out,
                int outOff, int outStride) {
            this.mode = mode;
            this.x = x;
            this.xOff = xOff;
            this.xStride = xStride;
            this.batch = rows;
            this.k = k;
            this.w = w;
            this.block = block;
            this.n = n;
            this.colOff = 0;
            this.bias = bias;
            this.out = out;
            this.split = rows;
            this.x2 = null;
            this.outOff = outOff;
            this.outStride = outStride;
        }

        void gates(int batch, A gx, int gxOff, int gxStride, A gh, A c, int cOff, A h, int hOff, int hStride) {
            this.batch = batch;
            this.cOff = cOff;
            this.gx = gx;
            this.gxOff = gxOff;
            this.gxStride = gxStride;
            this.gh = gh;
            this.c = c;
            this.h = h;
            this.hOff = hOff;
            this.hStride = hStride;
        }

        /** Forgets the call's arrays, so that a pooled workspace keeps no caller's data reachable. */
        void clear() {
            x = null;
            w = null;
            bias = null;
            out = null;
            gx = null;
            gh = null;
            c = null;
            h = null;
            x2 = null;
        }

        private int lo(int p) {
            return p == parts ? width : width * p / parts / align * align;
        }

        @Override
        public void accept(int p) {
            int u0 = lo(p);
            int u1 = lo(p + 1);
            Arith<A> ar = m.ar;
            if (mode == INPUT || mode == PROJECTION) {
                ar.linearColumns(x, xOff, xStride, batch, k, w, block, n, colOff + u0, colOff + u1, bias, out, outOff,
                        outStride);
                return;
            }
            int H = m.hidden;
            if (mode == RECURRENT) {
                for (int g = 0; g < 4; g++) {
                    if (split > 0) {
                        ar.linearColumns(x, xOff, xStride, split, k, w, block, n, g * H + u0, g * H + u1, null, gh, 0, n);
                    }
                    if (split < batch && x2 != null) {
                        ar.linearColumns(x2, x2Off, x2Stride, batch - split, k, w, block, n, g * H + u0, g * H + u1,
                                null, gh, split * n, n);
                    } else {
                        for (int r = split; r < batch; r++) {
                            ar.zero(gh, r * n + g * H + u0, u1 - u0);
                        }
                    }
                }
            }
            int need = ar.gateScratch(u1 - u0);
            A s = scratch[p];
            if (need > 0 && (s == null || ar.length(s) < need)) {
                s = ar.alloc(need);
                scratch[p] = s;
            }
            ar.gates(batch, H, u0, u1, gx, gxOff, gxStride, mode == RECURRENT ? gh : null, c, cOff, h, hOff, hStride, s);
        }
    }

    /** A workspace of this model's pool, or a new one. */
    private Workspace<A> take() {
        Workspace<A> ws;
        synchronized (idle) {
            ws = idle.pollFirst();
        }
        return ws != null ? ws : new Workspace<>(this);
    }

    private void release(Workspace<A> ws) {
        ws.step.clear();
        synchronized (idle) {
            idle.offerFirst(ws);
        }
    }

    /**
     * See {@link dev.lstm4j.spi.LstmEngine#forwardPacked}: the same scan over a packed batch (sorted by
     * length, longest first), where step t runs only the first {@code batchSizes[t]} sequences:
     * finished sequences drop out of the GEMMs and the gate pass, and in the reverse direction a
     * sequence joins at its own last step with its initial state.
     */
    void forwardPacked(A data, int[] batchSizes, A h0, A c0, A output, A hN, A cN) {
        int steps = batchSizes.length;
        Workspace<A> ws = take();
        try {
            int[] row0 = ws.row0(steps);
            int rows = 0;
            for (int t = 0; t < steps; t++) {
                row0[t] = rows;
                rows += batchSizes[t];
            }
            scan(ws, data, steps, batchSizes, row0, 1, rows, h0, c0, output, hN, cN);
        } finally {
            release(ws);
        }
    }

    /** See {@link dev.lstm4j.spi.LstmEngine#forward}; arrays are the flat data of the validated tensors. */
    void forward(A input, int seqLen, int batch, boolean batchFirst, A h0, A c0, A output, A hN, A cN) {
        // Row of (t, b) in every (T*B, features) matrix: t * tRows + b * bRows, for either layout.
        int tRows = batchFirst ? 1 : batch;
        Workspace<A> ws = take();
        try {
            int[] row0 = ws.row0(seqLen);
            int[] n = ws.n(seqLen);
            for (int t = 0; t < seqLen; t++) {
                row0[t] = t * tRows;
                n[t] = batch;
            }
            scan(ws, input, seqLen, n, row0, batchFirst ? seqLen : 1, seqLen * batch, h0, c0, output, hN, cN);
        } finally {
            release(ws);
        }
    }

    /**
     * The layer x direction x time scan over any step layout: step t's rows are {@code row0[t] + b *
     * bStride} for {@code b < n[t]} in the (rows, features) matrices (input, gate pre-activations,
     * outputs). A padded batch has {@code n[t] = B}; a packed one non-increasing {@code n[t]}, where
     * the continuing rows of a step come from the previous step's output and the rows that start
     * there (the reverse direction) from {@code h0}.
     */
    private void scan(Workspace<A> ws, A input, int steps, int[] n, int[] row0, int bStride, int rows, A h0, A c0,
            A output, A hN, A cN) {
        final int T = steps;
        final int B = n[0];
        final int H = hidden;
        final int P = hOut;
        final int D = dirs;
        final int G = 4 * H;
        final int yCols = D * P;
        if (h0 == null && !whhFinite) {
            // W_hh has a NaN or an infinity: W_hh h0 is not zero even for h0 = 0, as in PyTorch.
            h0 = ar.alloc(layers * D * B * P);
        }
        // All steps' input projections at once, or each step's before its gates: when they would not fit,
        // or when a step's own projection pays (fuseInputProjection).
        int maxInput = Math.max(inputSize, layers > 1 ? D * P : 0);
        boolean wholeGx = (long) rows * D * G <= gxLimit
                && !fuseInputProjection(B, maxInput, H, ar.elementBytes(), threads);
        grow(ws, wholeGx ? (long) rows * D * G : (long) B * D * G, B, rows);
        A gx = ws.gx;
        A gh = ws.gh;
        A c = ws.c;
        Step<A> step = ws.step;

        A layerIn = input;
        int in = inputSize;
        for (int l = 0; l < layers; l++) {
            A y = l == layers - 1 ? output : (l % 2 == 0 ? ws.y0 : ws.y1);
            if (wholeGx) {
                step.product(Step.INPUT, layerIn, 0, in, rows, in, wIhT[l], H, D * G, biasCat[l], gx, 0, D * G);
                run(step, rows, in, D * G, 1, 2 * ALIGN, false);
            }
            for (int d = 0; d < D; d++) {
                int state = l * D + d;
                if (c0 != null) {
                    System.arraycopy(c0, state * B * H, c, 0, B * H);
                } else {
                    ar.zero(c, 0, B * H);
                }
                Rows<A> pass = ws.rows;
                pass.set(l, d, layerIn, in, y, T, n, row0, bStride, B, h0, c, wholeGx, gx);
                int rowParts = rowSplitParts(B, T, threads, split);
                if (rowParts > 1) {
                    pass.parts = rowParts;
                    team.run(rowParts, pass);
                } else {
                    direction(pass, step, 0, B, gx, gh, ws.hFull, false);
                }
                pass.clear();
                // h_n: each sequence's last step, its last running step forwards, step 0 backwards.
                for (int b = 0, t = T - 1; b < B; b++) {
                    if (d == 0) {
                        while (n[t] <= b) {
                            t--;
                        }
                    }
                    int last = d == 0 ? t : 0;
                    System.arraycopy(y, (row0[last] + b * bStride) * yCols + d * P, hN, (state * B + b) * P, P);
                }
                System.arraycopy(c, 0, cN, state * B * H, B * H);
            }
            layerIn = y;
            in = yCols;
        }
    }

    /**
     * How a direction's time loop is split over the team, chosen per shape here and nowhere else (as
     * {@code row_split_parts} in the native team scan). By batch rows when every part gets at least
     * {@link #ROWS_PER_PART} rows: each part carries its rows through every step with all their
     * columns, and the threads meet once per direction instead of at every step, so a thread that
     * loses its core for a while delays only its rows. Else (returns 1) every step is split by hidden
     * units: a small batch has too few rows to share, and a single step (a stream pool's) has no
     * hand-offs to save while split by units each core reads only its share of the weights. Either way
     * each output element is one FMA chain in k order: the same bits.
     */
    static int rowSplitParts(int batch, int steps, int threads, Split split) {
        if (split == Split.UNITS || (steps <= 1 && split != Split.ROWS)) {
            return 1;
        }
        int parts = Math.min(threads, split == Split.ROWS ? batch / ROW_ALIGN : batch / ROWS_PER_PART);
        return threads > 1 && parts >= 2 ? parts : 1;
    }

    /**
     * Whether each step computes its own input projection just before its gate pass instead of all steps'
     * at once, as {@code fuse_input_projection} in the native team scan decides: when a step's rows reuse
     * each weight enough (B >= 32) and a thread's share of the input weights stays in its L2 (<= 512 KB).
     * It saves writing and reading back every step's gate pre-activations (32 MB a layer at B=64, H=256):
     * B=64, T=128, H=256, two layers, float32, four pairs of fresh JVMs: 94, 105, 141 and 93 ms per forward
     * at steady state against 103, 112, 138 and 140 ms with all steps' projections at once.
     */
    static boolean fuseInputProjection(int batch, int maxInput, int hidden, int elementBytes, int threads) {
        long bytes = (long) maxInput * 4 * hidden * elementBytes;
        return batch >= 32 && bytes / Math.max(threads, 1) <= 512L << 10;
    }

    /** The split of the time loop: chosen per shape ({@code AUTO}), or forced for measurements. */
    enum Split {
        AUTO, ROWS, UNITS;

        /**
         * From the environment variable {@value #ENV} ({@code rows}, {@code units}; unset or anything else:
         * {@code AUTO}), which the native team scan reads too: an A/B switch for measurements.
         */
        static Split fromEnvironment() {
            String v = System.getenv(ENV);
            if ("rows".equals(v)) {
                return ROWS;
            }
            return "units".equals(v) ? UNITS : AUTO;
        }

        static final String ENV = "LSTM4J_CPU_SPLIT";
    }

    /**
     * Steps 0..T-1 of one direction for batch rows {@code [r0, r1)}: with {@code alone}, on the calling
     * thread (one part of the row split: {@code gx} (unless whole), {@code gh} and {@code hFull} are
     * the part's own, from its row r0), else every phase split over the team by units.
     */
    private void direction(Rows<A> ps, Step<A> step, int r0, int r1, A gx, A gh, A hFull, boolean alone) {
        final int H = hidden;
        final int P = hOut;
        final int D = dirs;
        final int G = 4 * H;
        final int yCols = D * P;
        final int T = ps.stepCount;
        final int d = ps.d;
        final int l = ps.layer;
        final int state = l * D + d;
        final int in = ps.in;
        final int bStride = ps.bStride;
        final int[] n = ps.n;
        final int[] row0 = ps.row0;
        final A h0 = ps.h0;
        final A y = ps.y;
        for (int s = 0; s < T; s++) {
            int t = d == 0 ? s : T - 1 - s;
            int tPrev = d == 0 ? t - 1 : t + 1;
            int rowsNow = n[t];
            int hi = Math.min(r1, rowsNow);
            if (hi <= r0) {
                continue; // this part's sequences have all ended (packed batch)
            }
            int m = hi - r0;
            int first = row0[t] + r0 * bStride; // this part's first row at step t
            int gxOff = ps.wholeGx ? first * D * G + d * G : d * G;
            int gxStride = ps.wholeGx ? bStride * D * G : D * G;
            if (!ps.wholeGx) {
                // This step's input projection, direction d's columns, rows 0.. of gx.
                step.product(Step.INPUT, ps.layerIn, first * in, bStride * in, m, in, wIhT[l], H, D * G, biasCat[l],
                        gx, 0, D * G);
                step.colOff = d * G;
                run(step, m, in, G, 1, 2 * ALIGN, alone);
            }
            // Sequences still running from the previous step; the others start here.
            int cont = s == 0 ? 0 : Math.min(rowsNow, n[tPrev]);
            int c0 = Math.max(r0, Math.min(cont, hi)); // this part's continuing rows: [r0, c0)
            if (cont > 0) {
                step.product(Step.RECURRENT, y, (row0[tPrev] + r0 * bStride) * yCols + d * P, bStride * yCols, m, P,
                        wHhT[state], H, G, null, gh, 0, G);
                step.startingRows(c0 - r0, h0, state * ps.batch * P + c0 * P, P);
            } else if (h0 != null) {
                step.product(Step.RECURRENT, h0, state * ps.batch * P + r0 * P, P, m, P, wHhT[state], H, G, null, gh,
                        0, G);
            } else {
                step.mode = Step.GATES_ONLY;
            }
            int yOff = first * yCols + d * P;
            if (proj > 0) {
                step.gates(m, gx, gxOff, gxStride, gh, ps.c, r0 * H, hFull, 0, H);
                run(step, m, P, H, 4, ALIGN, alone);
                step.product(Step.PROJECTION, hFull, 0, H, m, H, wHrT[state], P, P, null, y, yOff, bStride * yCols);
                run(step, m, H, P, 1, ALIGN, alone);
            } else {
                step.gates(m, gx, gxOff, gxStride, gh, ps.c, r0 * H, y, yOff, bStride * yCols);
                run(step, m, P, H, 4, ALIGN, alone);
            }
        }
    }

    /**
     * One direction's pass of a call: its operands, and the parts of the row split (part p runs rows
     * {@code [lo(p), lo(p + 1))} through every step on its own step object and scratch arrays). Kept in
     * the workspace, so that a call allocates nothing once the scratch has grown.
     */
    private static final class Rows<A> implements java.util.function.IntConsumer {
        final JavaLstm<A> m;
        final Step<A>[] partSteps;
        final A[] gx;
        final A[] gh;
        final A[] hFull;
        int parts;
        int layer;
        int d;
        A layerIn;
        int in;
        A y;
        int stepCount;
        int[] n;
        int[] row0;
        int bStride;
        int batch;
        A h0;
        A c;
        boolean wholeGx;
        A gxAll;

        @SuppressWarnings("unchecked")
        Rows(JavaLstm<A> m) {
            this.m = m;
            partSteps = (Step<A>[]) new Step<?>[m.threads];
            gx = (A[]) new Object[m.threads];
            gh = (A[]) new Object[m.threads];
            hFull = (A[]) new Object[m.threads];
        }

        void set(int layer, int d, A layerIn, int in, A y, int steps, int[] n, int[] row0, int bStride, int batch, A h0,
                A c, boolean wholeGx, A gxAll) {
            this.layer = layer;
            this.d = d;
            this.layerIn = layerIn;
            this.in = in;
            this.y = y;
            this.stepCount = steps;
            this.n = n;
            this.row0 = row0;
            this.bStride = bStride;
            this.batch = batch;
            this.h0 = h0;
            this.c = c;
            this.wholeGx = wholeGx;
            this.gxAll = gxAll;
        }

        /** Forgets the call's arrays (see {@link Step#clear}). */
        void clear() {
            layerIn = null;
            y = null;
            h0 = null;
            c = null;
            gxAll = null;
            n = null;
            row0 = null;
            for (Step<A> st : partSteps) {
                if (st != null) {
                    st.clear();
                }
            }
        }

        private int lo(int p) {
            return p == parts ? batch : batch * p / parts / ROW_ALIGN * ROW_ALIGN;
        }

        @Override
        public void accept(int p) {
            int r0 = lo(p);
            int r1 = lo(p + 1);
            int rows = r1 - r0;
            long g = 4L * m.hidden;
            if (partSteps[p] == null) {
                partSteps[p] = new Step<>(m);
            }
            gh[p] = m.ensure(gh[p], rows * g, "the recurrent gate pre-activations (batch x 4 x hidden_size)");
            if (!wholeGx) {
                gx[p] = m.ensure(gx[p], rows * m.dirs * g, "the gate pre-activations of a step (batch x D x 4 x hidden_size)");
            }
            if (m.proj > 0) {
                hFull[p] = m.ensure(hFull[p], (long) rows * m.hidden, "the unprojected h (batch x hidden_size)");
            }
            m.direction(this, partSteps[p], r0, r1, wholeGx ? gxAll : gx[p], gh[p], hFull[p], true);
        }
    }

    /**
     * Grows {@code ws} to a pass over {@code rows} rows of a batch of {@code batch} with
     * {@code gxSize} elements of input projections. Sizes are counted in long: one that exceeds a
     * Java array is refused by name instead of wrapping around.
     */
    private void grow(Workspace<A> ws, long gxSize, int batch, int rows) {
        long g = 4L * hidden;
        long yCols = (long) dirs * hOut;
        ws.gx = ensure(ws.gx, gxSize, "the gate pre-activations of a step (batch x D x 4 x hidden_size)");
        ws.gh = ensure(ws.gh, batch * g, "the recurrent gate pre-activations (batch x 4 x hidden_size)");
        ws.c = ensure(ws.c, (long) batch * hidden, "the cell state (batch x hidden_size)");
        if (proj > 0) {
            ws.hFull = ensure(ws.hFull, (long) batch * hidden, "the unprojected h (batch x hidden_size)");
        }
        if (layers > 1) {
            ws.y0 = ensure(ws.y0, rows * yCols, "a layer's output (seq_len x batch x D x H_out)");
        }
        if (layers > 2) {
            ws.y1 = ensure(ws.y1, rows * yCols, "a layer's output (seq_len x batch x D x H_out)");
        }
    }

    private A ensure(A a, long n, String what) {
        if (n > MAX_ARRAY) {
            throw new IllegalArgumentException("input: the JAVA backend would need " + n + " elements for " + what
                    + ", more than a Java array holds (" + MAX_ARRAY + "); use a smaller batch or the NATIVE backend");
        }
        return a != null && ar.length(a) >= n ? a : ar.alloc((int) n);
    }
}
