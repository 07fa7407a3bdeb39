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
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.unsafe.Platform;

/**
 * Scores one partition: a lazy iterator that reads {@code batchSize} rows, runs them as one packed
 * forward pass (each row its own sequence, {@code pack_padded_sequence} semantics) and hands out the
 * rows with their outputs appended. The model comes from the executor's {@link ModelCache}; the lease
 * is returned when the partition is exhausted or the task ends, whichever comes first.
 *
 * <p>Rows are Spark's internal rows ({@code InternalRow}, in practice {@code UnsafeRow}): the values
 * of the sequence columns are read with {@code ArrayData.getFloat}/{@code getDouble} straight into the
 * batch's input buffer, and the outputs are written as {@code UnsafeArrayData} copied from the
 * forward's result, so no value is boxed on the way in or out, whether or not the column's type
 * allows nulls (a null value is still found and named: {@code isNullAt} is a bit test). The input
 * columns pass through as the bytes they came in. Through the public {@code Row} API each value was
 * a boxed {@code Float} in a Scala sequence, twice (decoded for the scorer, encoded for the output).
 */
final class PartitionScorer implements FlatMapFunction<Iterator<InternalRow>, InternalRow> {
    private static final long serialVersionUID = 2L;

    private final Broadcast<WeightsPayload> weights;
    private final ScoringSpec spec;

    PartitionScorer(Broadcast<WeightsPayload> weights, ScoringSpec spec) {
        this.weights = weights;
        this.spec = spec;
    }

    @Override
    public Iterator<InternalRow> call(Iterator<InternalRow> rows) {
        return new Scored(rows);
    }

    private final class Scored implements Iterator<InternalRow> {
        private final Iterator<InternalRow> in;
        private final ArrayDeque<InternalRow> ready = new ArrayDeque<>();
        private ModelCache.Lease lease;

        Scored(Iterator<InternalRow> in) {
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
            List<InternalRow> batch = new ArrayList<>(spec.batchSize);
            while (batch.size() < spec.batchSize && in.hasNext()) {
                batch.add(in.next().copy()); // the scan reuses its row object
            }
            ready.addAll(scoreBatch(model(), batch));
            return true;
        }

        @Override
        public InternalRow next() {
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

    /** Scores one batch and returns its rows with the outputs appended, in order. */
    List<InternalRow> scoreBatch(Lstm model, List<InternalRow> batch) {
        LstmConfig cfg = model.config();
        int inputSize = cfg.inputSize();
        int states = cfg.numDirections() * cfg.numLayers();
        int hOut = cfg.realHiddenSize();
        int hidden = cfg.hiddenSize();
        int outWidth = cfg.numDirections() * hOut;
        boolean f32 = spec.dtype == DType.FLOAT32;

        // First pass: each row's steps and length, checked; -1 in slot[] for a row whose outputs are null.
        int n = batch.size();
        int[] steps = new int[n];
        int[] length = new int[n];
        int[] slot = new int[n];
        int running = 0;
        int maxLen = 0;
        boolean anyState = false;
        for (int r = 0; r < n; r++) {
            InternalRow row = batch.get(r);
            slot[r] = -1;
            if (row.isNullAt(spec.inputIndex)) {
                continue;
            }
            steps[r] = row.getArray(spec.inputIndex).numElements();
            length[r] = rowLength(row, steps[r]);
            if (length[r] > 0) {
                slot[r] = running++;
                maxLen = Math.max(maxLen, length[r]);
                anyState |= spec.h0Index >= 0 && hasState(row);
            }
        }

        LstmOutput out = null;
        if (running > 0) {
            int[] lengths = new int[running];
            float[] xf = f32 ? new float[running * maxLen * inputSize] : null;
            double[] xd = f32 ? null : new double[running * maxLen * inputSize];
            int hSize = states * running * hOut;
            int cSize = states * running * hidden;
            float[] h0f = anyState && f32 ? new float[hSize] : null;
            float[] c0f = anyState && f32 ? new float[cSize] : null;
            double[] h0d = anyState && !f32 ? new double[hSize] : null;
            double[] c0d = anyState && !f32 ? new double[cSize] : null;
            for (int r = 0; r < n; r++) {
                int b = slot[r];
                if (b < 0) {
                    continue;
                }
                InternalRow row = batch.get(r);
                lengths[b] = length[r];
                ArrayData seq = row.getArray(spec.inputIndex);
                for (int t = 0; t < length[r]; t++) {
                    ArrayData step = element(seq, t, spec.inputCol);
                    checkWidth(step, inputSize, "input has inconsistent input_size", t, spec.inputCol);
                    copy(step, xf, xd, (b * maxLen + t) * inputSize, inputSize, t, spec.inputCol);
                }
                if (anyState && hasState(row)) {
                    readState(row.getArray(spec.h0Index), "h0", h0f, h0d, b, running, states, hOut);
                    readState(row.getArray(spec.c0Index), "c0", c0f, c0d, b, running, states, hidden);
                }
            }
            Tensor xt = f32 ? Tensor.of(xf, running, maxLen, inputSize) : Tensor.of(xd, running, maxLen, inputSize);
            Tensor h0t = !anyState ? null : f32 ? Tensor.of(h0f, states, running, hOut) : Tensor.of(h0d, states, running, hOut);
            Tensor c0t = !anyState ? null : f32 ? Tensor.of(c0f, states, running, hidden) : Tensor.of(c0d, states, running, hidden);
            out = model.forward(xt, lengths, h0t, c0t);
        }

        int extra = (spec.wantOutput ? 1 : 0) + (spec.wantHn ? 1 : 0) + (spec.wantCn ? 1 : 0);
        Object output = out == null ? null : f32 ? out.output().floatData() : out.output().doubleData();
        Object hN = out == null ? null : f32 ? out.hN().floatData() : out.hN().doubleData();
        Object cN = out == null ? null : f32 ? out.cN().floatData() : out.cN().doubleData();
        UnsafeArrayData zeros = null; // an output step past a row's length (pad_packed_sequence pads with 0)
        List<InternalRow> result = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            int b = slot[r];
            Object[] values = new Object[extra];
            int k = 0;
            if (spec.wantOutput) {
                if (b >= 0) {
                    Object[] rows = new Object[steps[r]];
                    for (int t = 0; t < steps[r]; t++) {
                        if (t < length[r]) {
                            rows[t] = slice(output, (b * maxLen + t) * outWidth, outWidth, f32);
                        } else {
                            if (zeros == null) {
                                zeros = f32 ? UnsafeArrayData.fromPrimitiveArray(new float[outWidth])
                                        : UnsafeArrayData.fromPrimitiveArray(new double[outWidth]);
                            }
                            rows[t] = zeros;
                        }
                    }
                    values[k] = new GenericArrayData(rows);
                }
                k++;
            }
            if (spec.wantHn) {
                values[k++] = b < 0 ? null : stateRows(hN, b, running, states, hOut, f32);
            }
            if (spec.wantCn) {
                values[k++] = b < 0 ? null : stateRows(cN, b, running, states, hidden, f32);
            }
            result.add(new JoinedRow(batch.get(r), new GenericInternalRow(values)));
        }
        return result;
    }

    /** The steps of a row that run: its lengths value (checked), else all; 0 for an empty row. */
    private int rowLength(InternalRow row, int steps) {
        if (spec.lengthsIndex < 0 || row.isNullAt(spec.lengthsIndex)) {
            return steps;
        }
        long len = switch (spec.lengthsType) {
            case 'l' -> row.getLong(spec.lengthsIndex);
            case 's' -> row.getShort(spec.lengthsIndex);
            default -> row.getInt(spec.lengthsIndex);
        };
        if (len < 0 || len > steps) {
            throw new IllegalArgumentException("lengths: expected 0.." + steps + " (the row's number of steps in '"
                    + spec.inputCol + "'), got " + len);
        }
        return (int) len;
    }

    /** Whether the row has an initial state (h0 and c0 both set, or both null: zeros). */
    private boolean hasState(InternalRow row) {
        boolean h0Null = row.isNullAt(spec.h0Index);
        boolean c0Null = row.isNullAt(spec.c0Index);
        if (h0Null != c0Null) {
            throw new IllegalArgumentException("(h0, c0): pass both or neither, got only " + (h0Null ? "c0" : "h0")
                    + " in a row");
        }
        return !h0Null;
    }

    /** Copies one row's (states, width) state into column {@code b} of a (states, batch, width) buffer. */
    private static void readState(ArrayData state, String name, float[] f, double[] d, int b, int batch, int states,
            int width) {
        if (state.numElements() != states) {
            throw new IllegalArgumentException(name + ": expected " + states + " rows (D*num_layers) of " + width
                    + " values, got " + state.numElements() + " rows");
        }
        for (int s = 0; s < states; s++) {
            ArrayData v = element(state, s, name);
            checkWidth(v, width, name + " has inconsistent width", s, name);
            copy(v, f, d, (s * batch + b) * width, width, s, name);
        }
    }

    private static ArrayData element(ArrayData outer, int t, String what) {
        if (outer.isNullAt(t)) {
            throw new IllegalArgumentException(what + ": element " + t + " is null");
        }
        return outer.getArray(t);
    }

    private static void checkWidth(ArrayData inner, int width, String message, int t, String what) {
        if (inner.numElements() != width) {
            throw new IllegalArgumentException(message + ": got " + inner.numElements() + ", expected " + width
                    + " (element " + t + " of '" + what + "')");
        }
    }

    /** Copies {@code width} values of {@code inner} to {@code f} (float32) or {@code d} at {@code at}, unboxed. */
    private static void copy(ArrayData inner, float[] f, double[] d, int at, int width, int t, String what) {
        for (int j = 0; j < width; j++) {
            if (inner.isNullAt(j)) {
                throw new IllegalArgumentException(what + ": value " + j + " of element " + t + " is null");
            }
        }
        if (f != null) {
            for (int j = 0; j < width; j++) {
                f[at + j] = inner.getFloat(j);
            }
        } else {
            for (int j = 0; j < width; j++) {
                d[at + j] = inner.getDouble(j);
            }
        }
    }

    /** {@code width} values of a float[] / double[] from {@code at}, as Spark's array of non-null values. */
    private static UnsafeArrayData slice(Object data, int at, int width, boolean f32) {
        return f32 ? UnsafeArrayData.fromPrimitiveArray(data, Platform.FLOAT_ARRAY_OFFSET + at * 4, width, 4)
                : UnsafeArrayData.fromPrimitiveArray(data, Platform.DOUBLE_ARRAY_OFFSET + at * 8, width, 8);
    }

    /** Row {@code b}'s slice of a (states, batch, width) state. */
    private static ArrayData stateRows(Object state, int b, int batch, int states, int width, boolean f32) {
        Object[] rows = new Object[states];
        for (int s = 0; s < states; s++) {
            rows[s] = slice(state, (s * batch + b) * width, width, f32);
        }
        return new GenericArrayData(rows);
    }
}
