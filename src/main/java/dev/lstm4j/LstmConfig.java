package dev.lstm4j;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shape of a {@code torch.nn.LSTM}: the constructor arguments of PyTorch's module, under
 * Java names ({@code input_size} is {@link #inputSize()}), plus the element type. Immutable;
 * build one with {@link #builder(int, int)}.
 *
 * <pre>{@code
 * LstmConfig config = LstmConfig.builder(64, 128).numLayers(2).bidirectional(true).batchFirst(true).build();
 * }</pre>
 */
public final class LstmConfig {
    private final int inputSize;
    private final int hiddenSize;
    private final int numLayers;
    private final boolean bias;
    private final boolean batchFirst;
    private final boolean bidirectional;
    private final int projSize;
    private final DType dtype;
    private final Precision precision;

    private LstmConfig(Builder b) {
        this.inputSize = b.inputSize;
        this.hiddenSize = b.hiddenSize;
        this.numLayers = b.numLayers;
        this.bias = b.bias;
        this.batchFirst = b.batchFirst;
        this.bidirectional = b.bidirectional;
        this.projSize = b.projSize;
        this.dtype = b.dtype;
        this.precision = b.precision;
    }

    /** A builder with PyTorch's defaults: 1 layer, bias, time-major, unidirectional, no projection, float32. */
    public static Builder builder(int inputSize, int hiddenSize) {
        return new Builder(inputSize, hiddenSize);
    }

    /**
     * A builder with the configuration a {@code torch.nn.LSTM} state_dict implies: input and hidden
     * size, layers, bidirectional, proj_size and bias from the names and shapes, dtype from the
     * tensors. {@code batch_first} is not recorded in a state_dict: set it on the builder if the model
     * used it. The weights are checked in full when the LSTM is created.
     *
     * @throws IllegalArgumentException if {@code weights} has no {@code weight_ih_l0} / {@code weight_hh_l0}
     *                                  of a plausible shape (the message lists some names it has)
     */
    public static Builder inferFrom(StateDict weights) {
        Tensor wih = weights.get("weight_ih_l0");
        Tensor whh = weights.get("weight_hh_l0");
        if (wih == null || whh == null || wih.shape().length != 2 || whh.shape().length != 2
                || whh.shape()[0] % 4 != 0 || whh.shape()[0] == 0) {
            throw new IllegalArgumentException("weights: not a torch.nn.LSTM state_dict: expected weight_ih_l0 (4*H, I) "
                    + "and weight_hh_l0 (4*H, H_out), got " + StateDict.describeNames(weights));
        }
        int layers = 0;
        while (weights.get("weight_ih_l" + layers) != null) {
            layers++;
        }
        Tensor whr = weights.get("weight_hr_l0");
        return builder(wih.shape()[1], whh.shape()[0] / 4).numLayers(layers)
                .bidirectional(weights.get("weight_ih_l0_reverse") != null)
                .projSize(whr == null || whr.shape().length != 2 ? 0 : whr.shape()[0])
                .bias(weights.get("bias_ih_l0") != null).dtype(wih.dtype());
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder(inputSize, hiddenSize).numLayers(numLayers).bias(bias).batchFirst(batchFirst)
                .bidirectional(bidirectional).projSize(projSize).dtype(dtype).precision(precision);
    }

    /** {@code input_size}: features of each input step. */
    public int inputSize() {
        return inputSize;
    }

    /** {@code hidden_size}: features of the cell state c. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** {@code num_layers}. */
    public int numLayers() {
        return numLayers;
    }

    /** {@code bias}: whether the layers have {@code bias_ih} / {@code bias_hh}. */
    public boolean bias() {
        return bias;
    }

    /** {@code batch_first}: input and output are (batch, seq, feature) instead of (seq, batch, feature). */
    public boolean batchFirst() {
        return batchFirst;
    }

    /** {@code bidirectional}. */
    public boolean bidirectional() {
        return bidirectional;
    }

    /** {@code proj_size}: 0 for none, else the size h is projected to by {@code weight_hr}. */
    public int projSize() {
        return projSize;
    }

    /** Element type of weights, inputs and outputs. */
    public DType dtype() {
        return dtype;
    }

    /** Where the forward pass runs, the type of weights and activations; see {@link Precision}. */
    public Precision precision() {
        return precision;
    }

    /** D: 2 if bidirectional, else 1. */
    public int numDirections() {
        return bidirectional ? 2 : 1;
    }

    /** Size of h (and of each direction's output): {@code proj_size} if &gt; 0, else {@code hidden_size}. */
    public int realHiddenSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /** Input features of layer {@code layer}: input_size for the first, D * realHiddenSize after it. */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : numDirections() * realHiddenSize();
    }

    /**
     * Every parameter this LSTM has, in {@code state_dict()} order, with its shape: {@code weight_ih_l0}
     * (4*hidden_size, input_size), {@code weight_hh_l0} (4*hidden_size, real hidden), {@code bias_ih_l0},
     * {@code bias_hh_l0} (4*hidden_size), {@code weight_hr_l0} (proj_size, hidden_size), then
     * {@code _reverse} and further layers.
     */
    public Map<String, int[]> parameterShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        int gates = 4 * hiddenSize;
        for (int l = 0; l < numLayers; l++) {
            for (int d = 0; d < numDirections(); d++) {
                String suffix = "_l" + l + (d == 1 ? "_reverse" : "");
                shapes.put("weight_ih" + suffix, new int[] {gates, layerInputSize(l)});
                shapes.put("weight_hh" + suffix, new int[] {gates, realHiddenSize()});
                if (bias) {
                    shapes.put("bias_ih" + suffix, new int[] {gates});
                    shapes.put("bias_hh" + suffix, new int[] {gates});
                }
                if (projSize > 0) {
                    shapes.put("weight_hr" + suffix, new int[] {projSize, hiddenSize});
                }
            }
        }
        return Collections.unmodifiableMap(shapes);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LstmConfig)) {
            return false;
        }
        LstmConfig c = (LstmConfig) o;
        return inputSize == c.inputSize && hiddenSize == c.hiddenSize && numLayers == c.numLayers && bias == c.bias
                && batchFirst == c.batchFirst && bidirectional == c.bidirectional && projSize == c.projSize
                && dtype == c.dtype && precision == c.precision;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(inputSize, hiddenSize, numLayers, bias, batchFirst, bidirectional, projSize,
                dtype, precision);
    }

    /** PyTorch-style description, e.g. {@code LSTM(64, 128, num_layers=2, batch_first=True, bidirectional=True)}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("LSTM(").append(inputSize).append(", ").append(hiddenSize);
        if (numLayers != 1) {
            s.append(", num_layers=").append(numLayers);
        }
        if (!bias) {
            s.append(", bias=False");
        }
        if (batchFirst) {
            s.append(", batch_first=True");
        }
        if (bidirectional) {
            s.append(", bidirectional=True");
        }
        if (projSize > 0) {
            s.append(", proj_size=").append(projSize);
        }
        if (dtype != DType.FLOAT32) {
            s.append(", dtype=").append(dtype);
        }
        if (precision == Precision.BFLOAT16 || precision == Precision.FLOAT16) {
            s.append(").to(").append(precision);
        }
        return s.append(')').toString();
    }

    /** Builder of {@link LstmConfig}; {@link #build()} validates like {@code torch.nn.LSTM}'s constructor. */
    public static final class Builder {
        private final int inputSize;
        private final int hiddenSize;
        private int numLayers = 1;
        private boolean bias = true;
        private boolean batchFirst;
        private boolean bidirectional;
        private int projSize;
        private DType dtype = DType.FLOAT32;
        private Precision precision = Precision.FULL;

        private Builder(int inputSize, int hiddenSize) {
            this.inputSize = inputSize;
            this.hiddenSize = hiddenSize;
        }

        /** Sets {@code num_layers} (default 1). */
        public Builder numLayers(int value) {
            this.numLayers = value;
            return this;
        }

        /** Sets {@code bias} (default true). */
        public Builder bias(boolean value) {
            this.bias = value;
            return this;
        }

        /** Sets {@code batch_first} (default false). */
        public Builder batchFirst(boolean value) {
            this.batchFirst = value;
            return this;
        }

        /** Sets {@code bidirectional} (default false). */
        public Builder bidirectional(boolean value) {
            this.bidirectional = value;
            return this;
        }

        /** Sets {@code proj_size} (default 0: no projection). */
        public Builder projSize(int value) {
            this.projSize = value;
            return this;
        }

        /** Sets the element type (default float32). */
        public Builder dtype(DType value) {
            this.dtype = java.util.Objects.requireNonNull(value, "dtype");
            return this;
        }

        /** Sets the precision on the device (default {@link Precision#FULL}). */
        public Builder precision(Precision value) {
            this.precision = java.util.Objects.requireNonNull(value, "precision");
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException naming the offending argument
         */
        public LstmConfig build() {
            positive("input_size", inputSize);
            positive("hidden_size", hiddenSize);
            gateRows(hiddenSize);
            positive("num_layers", numLayers);
            if (projSize < 0) {
                throw new IllegalArgumentException("proj_size: expected >= 0, got " + projSize);
            }
            if (projSize >= hiddenSize) {
                throw new IllegalArgumentException("proj_size: expected < hidden_size (" + hiddenSize + "), got "
                        + projSize);
            }
            if (precision != Precision.FULL && dtype != DType.FLOAT32) {
                throw new IllegalArgumentException("precision: " + precision + " takes dtype float32 data, got dtype "
                        + dtype);
            }
            return new LstmConfig(this);
        }
    }

    static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": expected a positive size, got " + value);
        }
    }

    /** The largest hidden_size whose 4 * hidden_size gate rows (weight_ih's first dimension) fit in an int. */
    static final int MAX_HIDDEN_SIZE = Integer.MAX_VALUE / 4;

    /**
     * Refuses a hidden_size whose {@code 4 * hidden_size} overflows: the weight shapes, and every size
     * derived from them (D * 4 * hidden_size included, counted in long where it is used), stay exact.
     */
    static void gateRows(int hiddenSize) {
        if (hiddenSize > MAX_HIDDEN_SIZE) {
            throw new IllegalArgumentException("hidden_size: expected at most " + MAX_HIDDEN_SIZE
                    + " (4 * hidden_size rows of weight_ih must fit in a Java int), got " + hiddenSize);
        }
    }
}
