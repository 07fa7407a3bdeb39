package dev.lstm4j;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * A padded batch and its lengths rearranged as PyTorch's {@code pack_padded_sequence(...,
 * enforce_sorted=False)} does: sequences sorted by length (longest first, ties in batch order), the
 * rows of step 0, then of step 1, ...; and back. Works on the arrays of float32 and float64 tensors
 * alike (through {@link System#arraycopy}).
 */
final class PackedBatch {
    final int[] order;      // sorted position j -> batch index
    final int[] batchSizes; // sequences running at each step, up to the longest length
    final int[] offsets;    // first packed row of each step
    final int rows;
    private final int seqLen;
    private final int batch;
    private final boolean batchFirst;

    PackedBatch(int[] lengths, int seqLen, boolean batchFirst) {
        this.batch = lengths.length;
        this.seqLen = seqLen;
        this.batchFirst = batchFirst;
        Integer[] idx = IntStream.range(0, batch).boxed().toArray(Integer[]::new);
        Arrays.sort(idx, Comparator.comparingInt((Integer b) -> -lengths[b])); // stable: ties keep batch order
        order = Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
        int steps = lengths[order[0]];
        batchSizes = new int[steps];
        offsets = new int[steps + 1];
        for (int t = 0; t < steps; t++) {
            int n = 0;
            while (n < batch && lengths[order[n]] > t) {
                n++;
            }
            batchSizes[t] = n;
            offsets[t + 1] = offsets[t] + n;
        }
        rows = offsets[steps];
    }

    /** Row of (t, b) in the padded (T, B, F) or (B, T, F) layout. */
    private int paddedRow(int t, int b) {
        return batchFirst ? b * seqLen + t : t * batch + b;
    }

    /** The packed (rows, F) data of a padded input. */
    Tensor pack(Tensor padded) {
        int f = padded.size(-1);
        Tensor out = Tensor.zeros(padded.dtype(), rows, f);
        Object src = data(padded);
        Object dst = data(out);
        for (int t = 0; t < batchSizes.length; t++) {
            for (int j = 0; j < batchSizes[t]; j++) {
                System.arraycopy(src, paddedRow(t, order[j]) * f, dst, (offsets[t] + j) * f, f);
            }
        }
        return out;
    }

    /** Scatters packed (rows, F) results into a zeroed padded tensor. */
    void unpack(Tensor packed, Tensor padded) {
        int f = padded.size(-1);
        Object src = data(packed);
        Object dst = data(padded);
        for (int t = 0; t < batchSizes.length; t++) {
            for (int j = 0; j < batchSizes[t]; j++) {
                System.arraycopy(src, (offsets[t] + j) * f, dst, paddedRow(t, order[j]) * f, f);
            }
        }
    }

    /** (S, B, F) in batch order to sorted order ({@code toSorted}) or back. */
    Tensor permuteStates(Tensor states, boolean toSorted) {
        if (states == null) {
            return null;
        }
        int s = states.size(0);
        int f = states.size(-1);
        Tensor out = Tensor.zeros(states.dtype(), states.shape());
        Object src = data(states);
        Object dst = data(out);
        for (int k = 0; k < s; k++) {
            for (int j = 0; j < batch; j++) {
                int sorted = (k * batch + j) * f;
                int original = (k * batch + order[j]) * f;
                System.arraycopy(src, toSorted ? original : sorted, dst, toSorted ? sorted : original, f);
            }
        }
        return out;
    }

    private static Object data(Tensor t) {
        return t.dtype() == DType.FLOAT32 ? t.floatData() : t.doubleData();
    }
}
