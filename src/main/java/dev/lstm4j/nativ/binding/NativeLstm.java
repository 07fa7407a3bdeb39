package dev.lstm4j.nativ.binding;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * Binding of C++ {@code lstm4j::Lstm} (native/include/lstm4j/lstm.h). C++ exceptions
 * ({@code lstm4j::Error}) arrive as {@link RuntimeException}s carrying the message.
 * Internal: use {@link dev.lstm4j.Lstm}.
 */
@Properties(inherit = Lstm4jNative.class)
@Name("lstm4j::Lstm")
public class NativeLstm extends Pointer {
    static {
        Loader.load();
    }

    /** See lstm.h; dtype 0 = float32, 1 = float64, 2 = bfloat16, 3 = float16; deviceType 0 = CPU, 1 = CUDA. */
    public NativeLstm(long inputSize, long hiddenSize, long numLayers, boolean bias, boolean bidirectional,
            long projSize, int dtype, int deviceType, int deviceIndex) {
        super((Pointer) null);
        allocate(inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, dtype, deviceType, deviceIndex);
    }

    private native void allocate(@Cast("int64_t") long inputSize, @Cast("int64_t") long hiddenSize,
            @Cast("int64_t") long numLayers, @Cast("bool") boolean bias, @Cast("bool") boolean bidirectional,
            @Cast("int64_t") long projSize, int dtype, int deviceType, int deviceIndex);

    public native void set_parameter(String name, @Const float[] data, @Cast("int64_t") long numel);

    public native void set_parameter(String name, @Const double[] data, @Cast("int64_t") long numel);

    public native void prepare();

    /** This machine's float32 FMA peak with {@code threads} threads, measured, in GFLOP/s. */
    public static native double fma_peak_gflops(int threads);

    /**
     * See lstm.h: a forward on tensors the caller holds, by their addresses (at::Tensor*, as
     * {@code org.bytedeco.pytorch.Tensor#address()}); the three results are new handles, one per array.
     */
    public native void forward_tensors(@Cast("AtenTensorHandle") long input, @Cast("bool") boolean batchFirst,
            @Cast("AtenTensorHandle") long h0, @Cast("AtenTensorHandle") long c0,
            @Cast("AtenTensorHandle*") long[] output, @Cast("AtenTensorHandle*") long[] hN,
            @Cast("AtenTensorHandle*") long[] cN);

    /** Deletes a handle returned by {@link #forward_tensors}. */
    public static native void delete_tensor(@Cast("AtenTensorHandle") long tensor);

    /** Number of CUDA devices usable here; 0 without a CUDA LibTorch, driver or GPU. */
    public static native int cuda_device_count();

    /** Why CUDA cannot be used here; empty when it can. */
    public static native @org.bytedeco.javacpp.annotation.StdString String cuda_unavailable_reason();

    /** 0 = automatic, 1 = scan, 2 = oneDNN, 3 = team, 4 = device scan; before prepare(). See lstm.h. */
    public native void set_cpu_algorithm(int algorithm);

    public native void forward(@Const float[] input, @Cast("int64_t") long seqLen, @Cast("int64_t") long batch,
            @Cast("bool") boolean batchFirst, @Const float[] h0, @Const float[] c0, float[] output, float[] hN,
            float[] cN);

    /**
     * The same forward with input and output in native memory (the engine's reused staging buffers):
     * one copy each way, where arrays would be copied in and out by JNI on every call.
     */
    public native void forward(@Const FloatPointer input, @Cast("int64_t") long seqLen, @Cast("int64_t") long batch,
            @Cast("bool") boolean batchFirst, @Const float[] h0, @Const float[] c0, FloatPointer output, float[] hN,
            float[] cN);

    public native void forward(@Const DoublePointer input, @Cast("int64_t") long seqLen, @Cast("int64_t") long batch,
            @Cast("bool") boolean batchFirst, @Const double[] h0, @Const double[] c0, DoublePointer output,
            double[] hN, double[] cN);

    /** See lstm.h: a packed batch of variable-length sequences, CPU only. */
    public native void forward_packed(@Const float[] data, @Cast("const int64_t*") long[] batchSizes,
            @Cast("int64_t") long steps, @Const float[] h0, @Const float[] c0, float[] output, float[] hN, float[] cN);

    public native void forward_packed(@Const double[] data, @Cast("const int64_t*") long[] batchSizes,
            @Cast("int64_t") long steps, @Const double[] h0, @Const double[] c0, double[] output, double[] hN,
            double[] cN);

    public native void forward(@Const double[] input, @Cast("int64_t") long seqLen, @Cast("int64_t") long batch,
            @Cast("bool") boolean batchFirst, @Const double[] h0, @Const double[] c0, double[] output, double[] hN,
            double[] cN);
}
