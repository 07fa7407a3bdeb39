package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.TestSupport;
import java.util.Random;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The zero-copy path on LibTorch tensors ({@code lstm.unwrap(TorchTensors.class)}) gives the same
 * bits as the array API, here on CPU tensors (on a GPU the same code path runs the device scan), and
 * refuses tensors of the wrong shape or dtype by name.
 */
class TorchTensorsTest {
    @ParameterizedTest(name = "{0} batch_first={1} hx={2} proj={3}")
    @CsvSource({"FLOAT32,true,true,0", "FLOAT32,false,false,3", "FLOAT64,true,false,0", "FLOAT64,false,true,2"})
    void sameResultsAsTheArrayApi(DType dtype, boolean batchFirst, boolean hx, int proj) {
        Random rnd = new Random(11);
        LstmConfig config = LstmConfig.builder(5, 8).numLayers(2).bidirectional(true).projSize(proj)
                .batchFirst(batchFirst).dtype(dtype).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 8, dtype, rnd);
        Tensor x = TestSupport.random(batchFirst ? new int[] {3, 6, 5} : new int[] {6, 3, 5}, dtype, rnd, 1.0);
        Tensor h0 = hx ? TestSupport.random(new int[] {4, 3, config.realHiddenSize()}, dtype, rnd, 1.0) : null;
        Tensor c0 = hx ? TestSupport.random(new int[] {4, 3, 8}, dtype, rnd, 1.0) : null;
        try (Lstm lstm = Lstm.create(config, w, Backend.NATIVE, Device.cpu())) {
            LstmOutput want = lstm.forward(x, h0, c0);
            TorchTensors tt = lstm.unwrap(TorchTensors.class);
            try (org.bytedeco.pytorch.Tensor tx = torch(x); org.bytedeco.pytorch.Tensor th = torch(h0);
                    org.bytedeco.pytorch.Tensor tc = torch(c0); TorchTensors.Output got = tt.forward(tx, th, tc)) {
                assertEquals(0.0, back(got.output(), want.output()).maxAbsDiff(want.output()), "output");
                assertEquals(0.0, back(got.hN(), want.hN()).maxAbsDiff(want.hN()), "h_n");
                assertEquals(0.0, back(got.cN(), want.cN()).maxAbsDiff(want.cN()), "c_n");
            }
            try (org.bytedeco.pytorch.Tensor wrong = torch(TestSupport.random(new int[] {6, 3, 4}, dtype, rnd, 1.0))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> tt.forward(wrong, null, null));
                assertTrue(e.getMessage().startsWith("input: expected (seq_len, batch, 5)"), e.getMessage());
            }
            DType other = dtype == DType.FLOAT32 ? DType.FLOAT64 : DType.FLOAT32;
            try (org.bytedeco.pytorch.Tensor wrong = torch(TestSupport.random(x.shape(), other, rnd, 1.0))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> tt.forward(wrong, null, null));
                assertTrue(e.getMessage().startsWith("input: expected dtype " + dtype), e.getMessage());
            }
        }
        try (Lstm java = Lstm.create(config, w, Backend.JAVA, Device.cpu())) {
            assertThrows(IllegalArgumentException.class, () -> java.unwrap(TorchTensors.class));
        }
    }

    private static org.bytedeco.pytorch.Tensor torch(Tensor t) {
        if (t == null) {
            return null;
        }
        long[] sizes = java.util.Arrays.stream(t.shape()).asLongStream().toArray();
        boolean f32 = t.dtype() == DType.FLOAT32;
        try (Pointer data = f32 ? new FloatPointer(t.floatData()) : new DoublePointer(t.doubleData());
                TensorOptions options = new TensorOptions(f32 ? torch.ScalarType.Float : torch.ScalarType.Double);
                org.bytedeco.pytorch.Tensor view = torch.from_blob(data, sizes, options)) {
            return view.clone();
        }
    }

    private static Tensor back(org.bytedeco.pytorch.Tensor t, Tensor like) {
        if (like.dtype() == DType.FLOAT32) {
            float[] a = new float[like.numel()];
            t.data_ptr_float().get(a);
            return Tensor.of(a, like.shape());
        }
        double[] a = new double[like.numel()];
        t.data_ptr_double().get(a);
        return Tensor.of(a, like.shape());
    }
}
