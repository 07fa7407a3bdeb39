package dev.lstm4j.tools.golden;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmCell;
import dev.lstm4j.LstmCellConfig;
import dev.lstm4j.LstmCellOutput;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Precision;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.io.InvalidFileException;
import dev.lstm4j.io.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One case in the golden format computed by PyTorch (see {@code src/test/resources/golden/README.md}):
 * an LSTM or LSTMCell's configuration and weights, its inputs, and PyTorch's float64 results.
 * Used by {@code lstm4j verify} and by the library's parity tests, which compile this same file
 * ({@code tools/src/golden/java} is a test source root of the library's build): the format is written once.
 */
public final class GoldenCase {
    /** Tolerance against the float64 truth for a float32 implementation (max abs). */
    public static final double FLOAT32_TOLERANCE = 5e-6;
    /** Tolerance against the float64 truth for a float64 implementation (max abs). */
    public static final double FLOAT64_TOLERANCE = 1e-12;

    private final String name;
    private final Map<String, String> meta;
    private final Safetensors.Contents contents;
    private final StateDict weights;

    private GoldenCase(String name, Safetensors.Contents contents) {
        this.name = name;
        this.contents = contents;
        this.meta = contents.metadata();
        Map<String, Tensor> w = new LinkedHashMap<>();
        contents.tensors().forEach((k, v) -> {
            if (k.startsWith("weight_") || k.startsWith("bias_")) {
                w.put(k, v);
            }
        });
        this.weights = StateDict.of(w);
    }

    /**
     * Reads a case file.
     *
     * @throws InvalidFileException if it is not a well-formed golden case (the message says what is wrong)
     */
    public static GoldenCase load(Path file) throws IOException {
        Safetensors.Contents c = Safetensors.read(file);
        String fileName = file.getFileName().toString();
        String name = fileName.endsWith(".safetensors") ? fileName.substring(0, fileName.length() - 12) : fileName;
        GoldenCase g = new GoldenCase(name, c);
        g.validate(file);
        return g;
    }

    private void validate(Path file) throws InvalidFileException {
        for (String key : new String[] {"kind", "input_size", "hidden_size", "bias", "dtype", "has_hx", "batched"}) {
            if (!meta.containsKey(key)) {
                throw new InvalidFileException(file, "not a golden case: __metadata__ lacks '" + key + "'");
            }
        }
        // Only LSTMs: a GRU or RNN case would otherwise run as an LSTM and be compared with another model's results.
        String kind = meta.get("kind");
        if (!"lstm".equals(kind) && !"cell".equals(kind)) {
            throw new InvalidFileException(file, "unsupported golden case kind '" + kind
                    + "': expected lstm (torch.nn.LSTM) or cell (torch.nn.LSTMCell)");
        }
        if (!isCell() && !(meta.containsKey("num_layers") && meta.containsKey("bidirectional")
                && meta.containsKey("proj_size") && meta.containsKey("batch_first"))) {
            throw new InvalidFileException(file, "not a golden LSTM case: __metadata__ lacks the LSTM arguments");
        }
        if ("true".equals(meta.get("packed")) && !contents.int64Tensors().containsKey("lengths")) {
            throw new InvalidFileException(file, "packed golden case lacks the I64 tensor 'lengths'");
        }
        String[] needed = isCell() ? new String[] {"input", "h1", "c1"} : new String[] {"input", "output", "h_n", "c_n"};
        for (String t : needed) {
            if (!contents.tensors().containsKey(t)) {
                throw new InvalidFileException(file, "golden case lacks tensor '" + t + "'");
            }
        }
        try {
            if (isCell()) {
                cellConfig();
            } else {
                lstmConfig();
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidFileException(file, "bad configuration in __metadata__: " + e.getMessage());
        }
    }

    /** The case's name (file name without extension). */
    public String name() {
        return name;
    }

    /** Whether this is an {@code LSTMCell} case. */
    public boolean isCell() {
        return "cell".equals(meta.get("kind"));
    }

    /** The element type the case runs in. */
    public DType dtype() {
        return DType.fromTorchName(meta.get("dtype"));
    }

    /** The tolerance against the truth for this case's dtype. */
    public double tolerance() {
        return dtype() == DType.FLOAT64 ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCE;
    }

    /**
     * Bound against the float64 truth of a float32 case run in bfloat16 (8 significant bits): rounding
     * only the weights and input to bfloat16 already moves saturated_l1_b2_t500_i8_h32 by 3.3e-2, and
     * an emulation of the device scan in bfloat16 (float32 cell math and accumulation, as
     * {@code _thnn_fused_lstm_cell}) by 3.4e-2; 8e-2 is about 20 bfloat16 units (2^-8), 2.4x that.
     */
    public static final double BFLOAT16_TOLERANCE = 8e-2;
    /**
     * Bound against the float64 truth of a float32 case run in float16 (11 significant bits, 8x finer
     * than bfloat16: the same case's expected error scales to about 4.3e-3); 1e-2 is about 20 float16
     * units (2^-11), as for bfloat16.
     */
    public static final double FLOAT16_TOLERANCE = 1e-2;

    /** The tolerance against the truth when the case runs in {@code precision}. */
    public double tolerance(Precision precision) {
        switch (precision) {
            case BFLOAT16:
                return BFLOAT16_TOLERANCE;
            case FLOAT16:
            case PYTORCH: // TF32 GEMM inputs: 11 significant bits, as float16 (float32 elsewhere)
                return FLOAT16_TOLERANCE;
            default:
                return tolerance();
        }
    }

    /** Whether the case can run in {@code precision}: 16-bit precisions take float32 LSTM cases. */
    public boolean supports(Precision precision) {
        return precision == Precision.FULL || dtype() == DType.FLOAT32 && !isCell();
    }

    private int intMeta(String key) {
        try {
            return Integer.parseInt(meta.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " is not an integer: '" + meta.get(key) + "'");
        }
    }

    /** The LSTM configuration of an LSTM case. */
    public LstmConfig lstmConfig() {
        return LstmConfig.builder(intMeta("input_size"), intMeta("hidden_size")).numLayers(intMeta("num_layers"))
                .bias(Boolean.parseBoolean(meta.get("bias"))).batchFirst(Boolean.parseBoolean(meta.get("batch_first")))
                .bidirectional(Boolean.parseBoolean(meta.get("bidirectional"))).projSize(intMeta("proj_size"))
                .dtype(dtype()).build();
    }

    /** The cell configuration of a cell case. */
    public LstmCellConfig cellConfig() {
        return LstmCellConfig.builder(intMeta("input_size"), intMeta("hidden_size"))
                .bias(Boolean.parseBoolean(meta.get("bias"))).dtype(dtype()).build();
    }

    /** The weights under their state_dict names. */
    public StateDict weights() {
        return weights;
    }

    /** Whether this is a variable-length case ({@code packed_*}: the lengths of its sequences). */
    public boolean isPacked() {
        return "true".equals(meta.get("packed"));
    }

    /** The sequence lengths of a packed case, or {@code null}. */
    public int[] lengths() {
        long[] l = contents.int64Tensors().get("lengths");
        if (!isPacked() || l == null) {
            return null;
        }
        int[] r = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            r[i] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, l[i]));
        }
        return r;
    }

    /** A tensor of the file (inputs, expected outputs, weights). */
    public Tensor tensor(String key) {
        return contents.tensors().get(key);
    }

    /**
     * Runs the case on {@code backend} / {@code device} and returns the largest absolute difference of
     * any output to PyTorch's float64 truth.
     */
    public double run(Backend backend, Device device) {
        return run(backend, device, Precision.FULL);
    }

    /**
     * Runs the case with the model in {@code precision} (see {@link #supports}) and returns the
     * largest absolute difference of any output to PyTorch's float64 truth.
     */
    public double run(Backend backend, Device device, Precision precision) {
        if (!supports(precision)) {
            throw new IllegalArgumentException("precision: " + precision + " runs float32 LSTM cases, not " + name());
        }
        Tensor input = tensor("input");
        Tensor h0 = tensor("h0");
        Tensor c0 = tensor("c0");
        if (isCell()) {
            try (LstmCell cell = LstmCell.create(cellConfig(), weights, backend, device)) {
                LstmCellOutput out = cell.forward(input, h0, c0);
                return Math.max(diff(out.h1(), "h1"), diff(out.c1(), "c1"));
            }
        }
        try (Lstm lstm = Lstm.create(lstmConfig().toBuilder().precision(precision).build(), weights, backend,
                device)) {
            int[] lengths = lengths();
            LstmOutput out = lengths != null ? lstm.forward(input, lengths, h0, c0) : lstm.forward(input, h0, c0);
            return Math.max(diff(out.output(), "output"), Math.max(diff(out.hN(), "h_n"), diff(out.cN(), "c_n")));
        }
    }

    /**
     * Runs the case in {@code precision} and returns {the largest absolute difference to PyTorch's
     * float64 truth, the largest to {@code reference}'s tensors output, h_n and c_n} (PyTorch's own
     * result in the same precision, written by scripts/torch16_case.py).
     */
    public double[] runAgainst(Backend backend, Device device, Precision precision, Safetensors.Contents reference) {
        if (isCell() || !supports(precision)) {
            throw new IllegalArgumentException("precision: " + precision + " runs float32 LSTM cases, not " + name());
        }
        try (Lstm lstm = Lstm.create(lstmConfig().toBuilder().precision(precision).build(), weights, backend,
                device)) {
            int[] lengths = lengths();
            Tensor input = tensor("input");
            Tensor h0 = tensor("h0");
            Tensor c0 = tensor("c0");
            LstmOutput out = lengths != null ? lstm.forward(input, lengths, h0, c0) : lstm.forward(input, h0, c0);
            double truth = Math.max(diff(out.output(), "output"), Math.max(diff(out.hN(), "h_n"), diff(out.cN(), "c_n")));
            Map<String, Tensor> ref = reference.tensors();
            double torch = Math.max(diff(out.output(), ref.get("output")),
                    Math.max(diff(out.hN(), ref.get("h_n")), diff(out.cN(), ref.get("c_n"))));
            return new double[] {truth, torch};
        }
    }

    private static double diff(Tensor got, Tensor want) {
        if (want == null || !java.util.Arrays.equals(got.shape(), want.shape())) {
            return Double.POSITIVE_INFINITY;
        }
        return got.maxAbsDiff(want);
    }

    private double diff(Tensor got, String key) {
        Tensor want = tensor(key);
        if (!java.util.Arrays.equals(got.shape(), want.shape())) {
            return Double.POSITIVE_INFINITY;
        }
        return got.maxAbsDiff(want);
    }
}
