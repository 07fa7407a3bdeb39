package dev.lstm4j.spark;

import dev.lstm4j.DType;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;
import dev.lstm4j.integrations.ModelCache;
import dev.lstm4j.integrations.WeightsPayload;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Scores one partition: a lazy iterator that reads {@code batchSize} rows, runs them as one packed
 * forward pass (each row its own sequence, {@code pack_padded_sequence} semantics) and hands out the
 * rows with their outputs appended. The model comes from the executor's {@link ModelCache}; the lease
 * is returned when the partition is exhausted or the task ends, whichever comes first.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<WeightsPayload> weights;
    private final ScoringSpec spec;

    PartitionScorer(Broadcast<WeightsPayload> weights, ScoringSpec spec) {
        this.weights = weights;
        this.spec = spec;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Scored(rows);
    }

    private final class Scored implements Iterator<Row> {
        private final Iterator<Row> in;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private ModelCache.Lease lease;

        Scored(Iterator<Row> in) {
            this.in = in;
        }

        @Override
        public boolean hasNext() {
            if (!ready.isEmpty()) {
                return true;
            }
            if (!in.hasNext()) {
                release();
                return false;
            }
            List<Row> batch = new ArrayList<>(spec.batchSize);
            while (batch.size() < spec.batchSize && in.hasNext()) {
                batch.add(in.next());
            }
            ready.addAll(scoreBatch(model(), batch));
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }

        private Lstm model() {
            if (lease == null) {
                WeightsPayload w = weights.value();
                lease = ModelCache.SHARED.acquire(spec.cacheKey(w), () -> spec.buildModel(w));
                TaskContext task = TaskContext.get();
                if (task != null) {
                    // A task that stops early (limit, failure) never exhausts the iterator.
                    task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> release());
                }
            }
            return lease.model();
        }

        private void release() {
            if (lease != null) {
                lease.close();
            }
        }
    }

    /** One row's data, read and checked; {@code steps == 0} for a row whose outputs are null. */
    private static final class Seq {
        int steps;     // the row's number of time steps
        int length;    // steps that run (the lengths column, else all)
        Object data;   // float[] or double[]: length * input_size, step-major
        Object h0;     // float[] / double[] of (D * num_layers) * H_out, or null for zeros
        Object c0;
    }

    /** Scores one batch and returns its rows with the outputs appended, in order. */
    List<Row> scoreBatch(Lstm model, List<Row> batch) {
        LstmConfig cfg = model.config();
        int inputSize = cfg.inputSize();
        int states = cfg.numDirections() * cfg.numLayers();
        int hOut = cfg.realHiddenSize();
        int outWidth = cfg.numDirections() * hOut;
        boolean f32 = spec.dtype == DType.FLOAT32;

        List<Seq> seqs = new ArrayList<>(batch.size());
        int running = 0;
        int maxLen = 0;
        boolean anyState = false;
        for (Row row : batch) {
            Seq s = read(row, inputSize, states, hOut, cfg.hiddenSize());
            seqs.add(s);
            if (s.length > 0) {
                running++;
                maxLen = Math.max(maxLen, s.length);
                anyState |= s.h0 != null;
            }
        }
        LstmOutput out = null;
        int[] slot = new int[seqs.size()];
        if (running > 0) {
            int[] lengths = new int[running];
            Object x = f32 ? new float[running * maxLen * inputSize] : new double[running * maxLen * inputSize];
            Object h0 = !anyState ? null : f32 ? new float[states * running * hOut] : new double[states * running * hOut];
            Object c0 = !anyState ? null
                    : f32 ? new float[states * running * cfg.hiddenSize()] : new double[states * running * cfg.hiddenSize()];
            int b = 0;
            for (int r = 0; r < seqs.size(); r++) {
                Seq s = seqs.get(r);
                if (s.length == 0) {
                    slot[r] = -1;
                    continue;
                }
                slot[r] = b;
                lengths[b] = s.length;
                System.arraycopy(s.data, 0, x, b * maxLen * inputSize, s.length * inputSize);
                if (s.h0 != null) {
                    scatterState(s.h0, h0, b, running, states, hOut);
                    scatterState(s.c0, c0, b, running, states, cfg.hiddenSize());
                }
                b++;
            }
            Tensor xt = f32 ? Tensor.of((float[]) x, running, maxLen, inputSize)
                    : Tensor.of((double[]) x, running, maxLen, inputSize);
            Tensor h0t = h0 == null ? null : f32 ? Tensor.of((float[]) h0, states, running, hOut)
                    : Tensor.of((double[]) h0, states, running, hOut);
            Tensor c0t = c0 == null ? null : f32 ? Tensor.of((float[]) c0, states, running, cfg.hiddenSize())
                    : Tensor.of((double[]) c0, states, running, cfg.hiddenSize());
            out = model.forward(xt, lengths, h0t, c0t);
        } else {
            java.util.Arrays.fill(slot, -1);
        }

        List<Row> result = new ArrayList<>(batch.size());
        for (int r = 0; r < batch.size(); r++) {
            Row row = batch.get(r);
            int extra = (spec.wantOutput ? 1 : 0) + (spec.wantHn ? 1 : 0) + (spec.wantCn ? 1 : 0);
            Object[] values = new Object[row.length() + extra];
            for (int i = 0; i < row.length(); i++) {
                values[i] = row.get(i);
            }
            int k = row.length();
            int b = slot[r];
            if (spec.wantOutput) {
                values[k++] = b < 0 ? null : outputRows(out.output(), b, maxLen, seqs.get(r), outWidth, f32);
            }
            if (spec.wantHn) {
                values[k++] = b < 0 ? null : stateRows(out.hN(), b, running, states, hOut, f32);
            }
            if (spec.wantCn) {
                values[k++] = b < 0 ? null : stateRows(out.cN(), b, running, states, cfg.hiddenSize(), f32);
            }
            result.add(RowFactory.create(values));
        }
        return result;
    }

    /** Reads and checks one row. */
    private Seq read(Row row, int inputSize, int states, int hOut, int hidden) {
        Seq s = new Seq();
        Object v = row.get(spec.inputIndex);
        if (v == null) {
            return s;
        }
        Object[] steps = (Object[]) v; // float[][], Float[][], double[][] or Double[][] (PrimitiveArrays)
        s.steps = steps.length;
        s.length = s.steps;
        if (spec.lengthsIndex >= 0 && !row.isNullAt(spec.lengthsIndex)) {
            long len = ((Number) row.get(spec.lengthsIndex)).longValue();
            if (len < 0 || len > s.steps) {
                throw new IllegalArgumentException("lengths: expected 0.." + s.steps + " (the row's number of steps in '"
                        + spec.inputCol + "'), got " + len);
            }
            s.length = (int) len;
        }
        if (s.length == 0) {
            return s;
        }
        s.data = flatten(steps, s.length, inputSize, spec.inputCol, "input has inconsistent input_size");
        if (spec.h0Index >= 0) {
            boolean h0Null = row.isNullAt(spec.h0Index);
            boolean c0Null = row.isNullAt(spec.c0Index);
            if (h0Null != c0Null) {
                throw new IllegalArgumentException("(h0, c0): pass both or neither, got only "
                        + (h0Null ? "c0" : "h0") + " in a row");
            }
            if (!h0Null) {
                s.h0 = state(row.get(spec.h0Index), "h0", states, hOut);
                s.c0 = state(row.get(spec.c0Index), "c0", states, hidden);
            }
        }
        return s;
    }

    private Object state(Object v, String name, int states, int width) {
        Object[] rows = (Object[]) v;
        if (rows.length != states) {
            throw new IllegalArgumentException(name + ": expected " + states + " rows (D*num_layers) of " + width
                    + " values, got " + rows.length + " rows");
        }
        return flatten(rows, states, width, name, name + " has inconsistent width");
    }

    /** The first {@code count} inner arrays of {@code outer}, each of {@code width} values, row-major. */
    private Object flatten(Object[] outer, int count, int width, String what, String widthMessage) {
        Object flat = spec.dtype == DType.FLOAT32 ? new float[count * width] : new double[count * width];
        for (int t = 0; t < count; t++) {
            Object inner = outer[t];
            if (inner == null) {
                throw new IllegalArgumentException(what + ": element " + t + " is null");
            }
            int n = java.lang.reflect.Array.getLength(inner);
            if (n != width) {
                throw new IllegalArgumentException(widthMessage + ": got " + n + ", expected " + width
                        + " (element " + t + " of '" + what + "')");
            }
            if (inner instanceof Object[]) { // boxed: the column's type allows null values
                Object[] boxed = (Object[]) inner;
                for (int j = 0; j < width; j++) {
                    if (boxed[j] == null) {
                        throw new IllegalArgumentException(what + ": value " + j + " of element " + t + " is null");
                    }
                    if (flat instanceof float[]) {
                        ((float[]) flat)[t * width + j] = (Float) boxed[j];
                    } else {
                        ((double[]) flat)[t * width + j] = (Double) boxed[j];
                    }
                }
            } else {
                System.arraycopy(inner, 0, flat, t * width, width);
            }
        }
        return flat;
    }

    /** Copies one sequence's (states, width) block into column {@code b} of a (states, batch, width) array. */
    private static void scatterState(Object src, Object dst, int b, int batch, int states, int width) {
        for (int s = 0; s < states; s++) {
            System.arraycopy(src, s * width, dst, (s * batch + b) * width, width);
        }
    }

    /** Row {@code b}'s output: all its steps, zero past its length (as pad_packed_sequence pads). */
    private static Object outputRows(Tensor output, int b, int maxLen, Seq s, int width, boolean f32) {
        Object[] rows = f32 ? new float[s.steps][] : new double[s.steps][];
        for (int t = 0; t < s.steps; t++) {
            Object r = f32 ? new float[width] : new double[width];
            if (t < s.length) {
                System.arraycopy(f32 ? output.floatData() : output.doubleData(), (b * maxLen + t) * width, r, 0, width);
            }
            rows[t] = r;
        }
        return rows;
    }

    /** Row {@code b}'s slice of a (states, batch, width) state. */
    private static Object stateRows(Tensor state, int b, int batch, int states, int width, boolean f32) {
        Object[] rows = f32 ? new float[states][] : new double[states][];
        for (int s = 0; s < states; s++) {
            Object r = f32 ? new float[width] : new double[width];
            System.arraycopy(f32 ? state.floatData() : state.doubleData(), (s * batch + b) * width, r, 0, width);
            rows[s] = r;
        }
        return rows;
    }
}
