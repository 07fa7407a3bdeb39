package dev.lstm4j.nativ.binding;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Properties;

/** Binding of C++ {@code lstm4j::LstmCell}. Internal: use {@link dev.lstm4j.LstmCell}. */
@Properties(inherit = Lstm4jNative.class)
@Name("lstm4j::LstmCell")
public class NativeLstmCell extends Pointer {
    static {
        Loader.load();
    }

    /** See lstm.h; dtype 0 = float32, 1 = float64. */
    public NativeLstmCell(long inputSize, long hiddenSize, boolean bias, int dtype, int deviceType, int deviceIndex) {
        super((Pointer) null);
        allocate(inputSize, hiddenSize, bias, dtype, deviceType, deviceIndex);
    }

    private native void allocate(@Cast("int64_t") long inputSize, @Cast("int64_t") long hiddenSize,
            @Cast("bool") boolean bias, int dtype, int deviceType, int deviceIndex);

    public native void set_parameter(String name, @Const float[] data, @Cast("int64_t") long numel);

    public native void set_parameter(String name, @Const double[] data, @Cast("int64_t") long numel);

    public native void prepare();

    public native void forward(@Const float[] input, @Cast("int64_t") long batch, @Const float[] h0,
            @Const float[] c0, float[] h1, float[] c1);

    public native void forward(@Const double[] input, @Cast("int64_t") long batch, @Const double[] h0,
            @Const double[] c0, double[] h1, double[] c1);
}
