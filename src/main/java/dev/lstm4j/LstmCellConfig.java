package dev.lstm4j;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The shape of a {@code torch.nn.LSTMCell}: {@code input_size}, {@code hidden_size}, {@code bias}, and
 * the element type. Immutable; build one with {@link #builder(int, int)}.
 */
public final class LstmCellConfig {
    private final int inputSize;
    private final int hiddenSize;
    private final boolean bias;
    private final DType dtype;

    private LstmCellConfig(Builder b) {
        this.inputSize = b.inputSize;
        this.hiddenSize = b.hiddenSize;
        this.bias = b.bias;
        this.dtype = b.dtype;
    }

    /**
     * A builder with the configuration a {@code torch.nn.LSTMCell} state_dict implies (sizes, bias,
     * dtype).
     *
     * @throws IllegalArgumentException if {@code weights} has no {@code weight_ih} / {@code weight_hh} of a
     *                                  plausible shape
     */
    public static Builder inferFrom(StateDict weights) {
        Tensor wih = weights.get("weight_ih");
        Tensor whh = weights.get("weight_hh");
        if (wih == null || whh == null || wih.shape().length != 2 || whh.shape().length != 2
                || whh.shape()[0] % 4 != 0 || whh.shape()[0] == 0) {
            throw new IllegalArgumentException("weights: not a torch.nn.LSTMCell state_dict: expected weight_ih (4*H, I) "
                    + "and weight_hh (4*H, H), got " + StateDict.describeNames(weights));
        }
        return builder(wih.shape()[1], whh.shape()[0] / 4).bias(weights.get("bias_ih") != null).dtype(wih.dtype());
    }

    /** A builder with PyTorch's defaults (bias, float32). */
    public static Builder builder(int inputSize, int hiddenSize) {
        return new Builder(inputSize, hiddenSize);
    }

    /** {@code input_size}. */
    public int inputSize() {
        return inputSize;
    }

    /** {@code hidden_size}. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** {@code bias}. */
    public boolean bias() {
        return bias;
    }

    /** Element type. */
    public DType dtype() {
        return dtype;
    }

    /** {@code weight_ih} (4*hidden, input), {@code weight_hh} (4*hidden, hidden), and the biases (4*hidden). */
    public Map<String, int[]> parameterShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("weight_ih", new int[] {4 * hiddenSize, inputSize});
        shapes.put("weight_hh", new int[] {4 * hiddenSize, hiddenSize});
        if (bias) {
            shapes.put("bias_ih", new int[] {4 * hiddenSize});
            shapes.put("bias_hh", new int[] {4 * hiddenSize});
        }
        return Collections.unmodifiableMap(shapes);
    }

    /** The equivalent one-layer {@link LstmConfig} (a cell is one step of it). */
    public LstmConfig asLstmConfig() {
        return LstmConfig.builder(inputSize, hiddenSize).bias(bias).dtype(dtype).build();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LstmCellConfig)) {
            return false;
        }
        LstmCellConfig c = (LstmCellConfig) o;
        return inputSize == c.inputSize && hiddenSize == c.hiddenSize && bias == c.bias && dtype == c.dtype;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputSize, hiddenSize, bias, dtype);
    }

    @Override
    public String toString() {
        return "LSTMCell(" + inputSize + ", " + hiddenSize + (bias ? "" : ", bias=False")
                + (dtype == DType.FLOAT32 ? "" : ", dtype=" + dtype) + ")";
    }

    /** Builder of {@link LstmCellConfig}. */
    public static final class Builder {
        private final int inputSize;
        private final int hiddenSize;
        private boolean bias = true;
        private DType dtype = DType.FLOAT32;

        private Builder(int inputSize, int hiddenSize) {
            this.inputSize = inputSize;
            this.hiddenSize = hiddenSize;
        }

        /** Sets {@code bias} (default true). */
        public Builder bias(boolean value) {
            this.bias = value;
            return this;
        }

        /** Sets the element type (default float32). */
        public Builder dtype(DType value) {
            this.dtype = Objects.requireNonNull(value, "dtype");
            return this;
        }

        /** Validates and builds. */
        public LstmCellConfig build() {
            LstmConfig.positive("input_size", inputSize);
            LstmConfig.positive("hidden_size", hiddenSize);
            LstmConfig.gateRows(hiddenSize);
            return new LstmCellConfig(this);
        }
    }
}
