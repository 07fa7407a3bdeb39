package dev.lstm4j.peers;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;

/**
 * Builds the ONNX model of a {@code torch.nn.LSTM} (no projection) from its PyTorch weights, the way
 * PyTorch's ONNX exporter lays it out: one {@code LSTM} node per layer (both directions in one node),
 * the layer's {@code Y} of shape (seq_len, num_directions, batch, hidden_size) squeezed (one direction)
 * or transposed and reshaped (two) to (seq_len, batch, num_directions * hidden_size) for the next
 * layer, and {@code Transpose} nodes around the stack for {@code batch_first} (ONNX Runtime's CPU
 * {@code LSTM} refuses {@code layout = 1}: "Batchwise recurrent operations (layout == 1) are not
 * supported").
 *
 * <p>Graph input {@code input}: (batch, seq_len, input_size) if {@code batch_first}, else (seq_len,
 * batch, input_size). Outputs {@code output} (same layout, last dimension num_directions *
 * hidden_size), {@code h_n} and {@code c_n} (num_layers * num_directions, batch, hidden_size), as
 * PyTorch returns them.
 */
final class LstmOnnx {
    /** {@code LSTM}-14, {@code Squeeze}-13, {@code Reshape}-14: the opset the exporter uses for them. */
    static final int OPSET = 14;
    private static final long IR_VERSION = 8;
    /** ONNX's gate order i, o, f, c, as indices into PyTorch's i, f, g, o. */
    private static final int[] ONNX_GATES_FROM_TORCH = {0, 3, 1, 2};

    private LstmOnnx() {
    }

    /**
     * The model of {@code row} with the weights {@code weight} gives for a PyTorch state_dict name
     * ({@code weight_ih_l0}, {@code bias_hh_l1_reverse}, ...): row-major float32, PyTorch's shapes.
     * Bias names are asked for only if {@code row.bias()}.
     */
    static ModelProto build(PeerRow row, Function<String, float[]> weight) {
        if (row.projSize() > 0) {
            throw new IllegalArgumentException("ONNX's LSTM operator has no projection (proj_size)");
        }
        int h = row.hiddenSize();
        int dirs = row.bidirectional() ? 2 : 1;
        GraphProto.Builder g = GraphProto.newBuilder().setName("lstm4j_peer_lstm");
        long[] inputDims = row.batchFirst()
                ? new long[] {row.batch(), row.seqLen(), row.inputSize()}
                : new long[] {row.seqLen(), row.batch(), row.inputSize()};
        g.addInput(floatValue("input", inputDims));
        String x = "input";
        if (row.batchFirst()) {
            g.addNode(node("Transpose", List.of(x), List.of("input_tbi")).addAttribute(ints("perm", 1, 0, 2)));
            x = "input_tbi";
        }
        if (dirs == 1) {
            g.addInitializer(int64Tensor("axis_1", 1));
        } else {
            g.addInitializer(int64Tensor("shape_merge_last", 0, 0, -1));
        }
        List<String> hs = new ArrayList<>();
        List<String> cs = new ArrayList<>();
        for (int layer = 0; layer < row.numLayers(); layer++) {
            int in = layer == 0 ? row.inputSize() : dirs * h;
            float[] w = new float[dirs * 4 * h * in];
            float[] r = new float[dirs * 4 * h * h];
            float[] b = new float[dirs * 8 * h];
            for (int d = 0; d < dirs; d++) {
                String suffix = "_l" + layer + (d == 1 ? "_reverse" : "");
                reorderGates("weight_ih" + suffix, weight, h, in, w, d * 4 * h * in);
                reorderGates("weight_hh" + suffix, weight, h, h, r, d * 4 * h * h);
                if (row.bias()) {
                    // B = [Wb | Rb] per direction: b_ih then b_hh, each in ONNX's gate order.
                    reorderGates("bias_ih" + suffix, weight, h, 1, b, d * 8 * h);
                    reorderGates("bias_hh" + suffix, weight, h, 1, b, d * 8 * h + 4 * h);
                }
            }
            String p = "l" + layer + "_";
            g.addInitializer(floatTensor(p + "W", w, dirs, 4 * h, in));
            g.addInitializer(floatTensor(p + "R", r, dirs, 4 * h, h));
            List<String> inputs = new ArrayList<>(List.of(x, p + "W", p + "R"));
            if (row.bias()) {
                g.addInitializer(floatTensor(p + "B", b, dirs, 8 * h));
                inputs.add(p + "B");
            }
            g.addNode(node("LSTM", inputs, List.of(p + "Y", p + "Y_h", p + "Y_c"))
                    .addAttribute(AttributeProto.newBuilder().setName("direction")
                            .setType(AttributeProto.AttributeType.STRING)
                            .setS(ByteString.copyFromUtf8(dirs == 2 ? "bidirectional" : "forward")))
                    .addAttribute(AttributeProto.newBuilder().setName("hidden_size")
                            .setType(AttributeProto.AttributeType.INT).setI(h)));
            hs.add(p + "Y_h");
            cs.add(p + "Y_c");
            boolean last = layer == row.numLayers() - 1;
            String y = last && !row.batchFirst() ? "output" : p + "out";
            if (dirs == 1) {
                // (T, 1, B, H) -> (T, B, H)
                g.addNode(node("Squeeze", List.of(p + "Y", "axis_1"), List.of(y)));
            } else {
                // (T, 2, B, H) -> (T, B, 2, H) -> (T, B, 2H): forward and reverse halves side by side
                g.addNode(node("Transpose", List.of(p + "Y"), List.of(p + "Y_tbdh"))
                        .addAttribute(ints("perm", 0, 2, 1, 3)));
                g.addNode(node("Reshape", List.of(p + "Y_tbdh", "shape_merge_last"), List.of(y)));
            }
            if (last && row.batchFirst()) {
                g.addNode(node("Transpose", List.of(y), List.of("output")).addAttribute(ints("perm", 1, 0, 2)));
            }
            x = y;
        }
        // h_n, c_n: (num_layers * num_directions, B, H), layer-major as PyTorch orders them
        g.addNode(node("Concat", hs, List.of("h_n")).addAttribute(AttributeProto.newBuilder().setName("axis")
                .setType(AttributeProto.AttributeType.INT).setI(0)));
        g.addNode(node("Concat", cs, List.of("c_n")).addAttribute(AttributeProto.newBuilder().setName("axis")
                .setType(AttributeProto.AttributeType.INT).setI(0)));
        long[] outDims = row.batchFirst()
                ? new long[] {row.batch(), row.seqLen(), (long) dirs * h}
                : new long[] {row.seqLen(), row.batch(), (long) dirs * h};
        long[] stateDims = {(long) row.numLayers() * dirs, row.batch(), h};
        g.addOutput(floatValue("output", outDims));
        g.addOutput(floatValue("h_n", stateDims));
        g.addOutput(floatValue("c_n", stateDims));
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("lstm4j-peer-ort")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g)
                .build();
    }

    /**
     * Copies the PyTorch LSTM parameter {@code name} of shape (4 * hidden, cols), gates i, f, g, o, into
     * {@code dst} at {@code offset} with its row blocks in ONNX's order i, o, f, c.
     */
    static void reorderGates(String name, Function<String, float[]> weight, int hidden, int cols, float[] dst,
            int offset) {
        float[] torch = weight.apply(name);
        int block = hidden * cols;
        if (torch.length != 4 * block) {
            throw new IllegalArgumentException(name + ": expected " + 4 * block + " values (" + 4 * hidden
                    + (cols == 1 ? "" : " x " + cols) + "), got " + torch.length);
        }
        for (int k = 0; k < 4; k++) {
            System.arraycopy(torch, ONNX_GATES_FROM_TORCH[k] * block, dst, offset + k * block, block);
        }
    }

    private static NodeProto.Builder node(String op, List<String> inputs, List<String> outputs) {
        return NodeProto.newBuilder().setOpType(op).setName(outputs.get(0) + "_" + op).addAllInput(inputs)
                .addAllOutput(outputs);
    }

    private static AttributeProto.Builder ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a;
    }

    private static TensorProto floatTensor(String name, float[] values, long... dims) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name)
                .setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(bytes));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static TensorProto int64Tensor(String name, long... values) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length).addAllInt64Data(Arrays.stream(values).boxed().toList()).build();
    }

    private static ValueInfoProto floatValue(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape)))
                .build();
    }
}
