package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random calls of every backend: random configurations and inputs, valid or broken by one
 * mutation. Valid calls must match LIBTORCH; broken ones must throw IllegalArgumentException with the
 * same message on every backend, starting with the parameter's name. Reaching the end means no
 * native abort. {@code -Dlstm4j.fuzz.cases=N} runs more (default 5000).
 */
class ApiFuzzTest {
    private static final Backend[] BACKENDS = Backend.values();

    /** One way to break a valid call, and the start of the message it must get. */
    private enum Mutation {
        NONE(null), INPUT_SIZE("input has inconsistent input_size"), INPUT_1D("input: "), INPUT_4D("input: "), EMPTY_SEQUENCE("input: expected a non-empty"),
        INPUT_DTYPE("input: expected dtype"), ONLY_H0("(h0, c0): pass both or neither"),
        H0_SHAPE("h0: expected shape"), C0_BATCH("c0: expected shape"), H0_DTYPE("h0: expected dtype"),
        LENGTHS_COUNT("lengths: expected"), LENGTH_ZERO("lengths["), LENGTH_TOO_LONG("lengths["),
        LENGTH_NEGATIVE("lengths[");

        final String message;

        Mutation(String message) {
            this.message = message;
        }
    }

    @Test
    void randomCallsMatchLibTorchOrFailAlike() {
        int cases = Integer.getInteger("lstm4j.fuzz.cases", 5000);
        Random rnd = new Random(20261123);
        int valid = 0;
        int invalid = 0;
        Map<Mutation, Integer> seen = new EnumMap<>(Mutation.class);
        for (int n = 0; n < cases; n++) {
            DType dtype = rnd.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
            int in = 1 + rnd.nextInt(6);
            int hidden = 1 + rnd.nextInt(9);
            LstmConfig config = LstmConfig.builder(in, hidden).numLayers(1 + rnd.nextInt(3))
                    .bidirectional(rnd.nextBoolean()).projSize(rnd.nextInt(4) == 0 ? rnd.nextInt(hidden) : 0)
                    .bias(rnd.nextInt(4) != 0).batchFirst(rnd.nextBoolean()).dtype(dtype).build();
            StateDict w = TestSupport.randomWeights(config.parameterShapes(), hidden, dtype, rnd);
            boolean packed = rnd.nextInt(3) == 0;
            boolean batched = packed || rnd.nextInt(4) != 0;
            int seqLen = 1 + rnd.nextInt(6);
            int batch = 1 + rnd.nextInt(4);
            Mutation m = rnd.nextInt(3) == 0 ? Mutation.NONE : Mutation.values()[rnd.nextInt(Mutation.values().length)];
            if (!packed && m.name().startsWith("LENGTH")) {
                m = Mutation.NONE;
            }
            if (!batched && (m == Mutation.C0_BATCH)) {
                m = Mutation.NONE;
            }
            seen.merge(m, 1, Integer::sum);
            int states = config.numDirections() * config.numLayers();
            int[] xShape = !batched ? new int[] {seqLen, in}
                    : config.batchFirst() ? new int[] {batch, seqLen, in} : new int[] {seqLen, batch, in};
            DType xType = dtype;
            switch (m) {
                case INPUT_SIZE -> xShape[xShape.length - 1] = in + 1;
                case INPUT_1D -> xShape = new int[] {in};
                case INPUT_4D -> xShape = new int[] {1, seqLen, batch, in};
                case EMPTY_SEQUENCE -> xShape[batched && config.batchFirst() ? 1 : 0] = 0;
                case INPUT_DTYPE -> xType = dtype == DType.FLOAT32 ? DType.FLOAT64 : DType.FLOAT32;
                default -> { }
            }
            Tensor x = TestSupport.random(xShape, xType, rnd, 2.0);
            boolean hx = m == Mutation.ONLY_H0 || m == Mutation.H0_SHAPE || m == Mutation.C0_BATCH
                    || m == Mutation.H0_DTYPE || rnd.nextBoolean();
            Tensor h0 = null;
            Tensor c0 = null;
            if (hx) {
                int[] hs = batched ? new int[] {states, batch, config.realHiddenSize()}
                        : new int[] {states, config.realHiddenSize()};
                int[] cs = batched ? new int[] {states, batch, hidden} : new int[] {states, hidden};
                if (m == Mutation.H0_SHAPE) {
                    hs[0] = states + 1;
                }
                if (m == Mutation.C0_BATCH) {
                    cs[1] = batch + 1;
                }
                h0 = TestSupport.random(hs, m == Mutation.H0_DTYPE ? (dtype == DType.FLOAT32 ? DType.FLOAT64
                        : DType.FLOAT32) : dtype, rnd, 1.0);
                c0 = m == Mutation.ONLY_H0 ? null : TestSupport.random(cs, dtype, rnd, 1.0);
            }
            int[] lengths = null;
            if (packed) {
                lengths = new int[m == Mutation.LENGTHS_COUNT ? batch + 1 : batch];
                for (int b = 0; b < lengths.length; b++) {
                    lengths[b] = 1 + rnd.nextInt(seqLen);
                }
                switch (m) {
                    case LENGTH_ZERO -> lengths[rnd.nextInt(batch)] = 0;
                    case LENGTH_TOO_LONG -> lengths[rnd.nextInt(batch)] = seqLen + 1;
                    case LENGTH_NEGATIVE -> lengths[rnd.nextInt(batch)] = -1 - rnd.nextInt(5);
                    default -> { }
                }
            }
            String what = "case " + n + " " + config + " " + m + " x" + Arrays.toString(xShape)
                    + (packed ? " lengths" + Arrays.toString(lengths) : "");
            Object[] results = new Object[BACKENDS.length];
            for (int k = 0; k < BACKENDS.length; k++) {
                try (Lstm lstm = Lstm.create(config, w, BACKENDS[k], Device.cpu())) {
                    results[k] = packed ? lstm.forward(x, lengths, h0, c0) : lstm.forward(x, h0, c0);
                } catch (IllegalArgumentException e) {
                    results[k] = e.getMessage();
                }
            }
            if (m == Mutation.NONE) {
                valid++;
                LstmOutput ref = (LstmOutput) results[Backend.LIBTORCH.ordinal()];
                double tol = dtype == DType.FLOAT64 ? 1e-12 : 2e-6;
                for (int k = 0; k < BACKENDS.length; k++) {
                    if (!(results[k] instanceof LstmOutput out)) {
                        fail(what + ": " + BACKENDS[k] + " refused a valid call: " + results[k]);
                        return;
                    }
                    double err = Math.max(out.output().maxAbsDiff(ref.output()),
                            Math.max(out.hN().maxAbsDiff(ref.hN()), out.cN().maxAbsDiff(ref.cN())));
                    assertTrue(err <= tol, what + ": " + BACKENDS[k] + " differs from LIBTORCH by " + err);
                }
            } else {
                invalid++;
                for (int k = 0; k < BACKENDS.length; k++) {
                    assertTrue(results[k] instanceof String s && s.startsWith(m.message),
                            what + ": " + BACKENDS[k] + " gave " + results[k]);
                    assertEquals(results[0], results[k], what + ": messages differ between backends");
                }
            }
        }
        System.out.printf("API fuzz: %d cases x %d backends: %d valid (matched LIBTORCH), %d invalid (refused alike); "
                + "mutations %s%n", cases, BACKENDS.length, valid, invalid, seen);
    }
}
