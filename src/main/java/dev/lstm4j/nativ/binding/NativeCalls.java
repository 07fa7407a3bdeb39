package dev.lstm4j.nativ.binding;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The typed boundary ({@code native/binding/lstm4j_jni.h}): buffers go to native code untyped, and
 * the model's own dtype picks the float or double instantiation there. Every buffer holds
 * elements of the model's host dtype (float32 for float32, bfloat16 and float16 models; float64 for
 * float64). Internal to the NATIVE backend.
 */
@Properties(inherit = Lstm4jNative.class)
@Namespace("lstm4j::jni")
public final class NativeCalls {
    static {
        Loader.load();
    }

    private NativeCalls() {}

    public static native void set_parameter(NativeLstm lstm, String name, @Const Pointer data,
            @Cast("int64_t") long numel);

    public static native void forward(NativeLstm lstm, @Const Pointer input, @Cast("int64_t") long seqLen,
            @Cast("int64_t") long batch, @Cast("bool") boolean batchFirst, @Const Pointer h0, @Const Pointer c0,
            Pointer output, Pointer hN, Pointer cN);

    public static native void forward_packed(NativeLstm lstm, @Const Pointer data,
            @Cast("const int64_t*") long[] batchSizes, @Cast("int64_t") long steps, @Const Pointer h0,
            @Const Pointer c0, Pointer output, Pointer hN, Pointer cN);

    /** Whether {@code lstm} can keep a streaming state on its device (see lstm.h). */
    public static native @Cast("bool") boolean streams_on_device(NativeLstm lstm);

    /** A zero device state for {@code batch} sequences, as an opaque address; free with {@link #delete_device_state}. */
    public static native @Cast("int64_t") long new_device_state(NativeLstm lstm, @Cast("int64_t") long batch);

    public static native void delete_device_state(@Cast("int64_t") long state);

    public static native void set_device_state(NativeLstm lstm, @Cast("int64_t") long state, @Const Pointer h,
            @Const Pointer c);

    public static native void get_device_state(NativeLstm lstm, @Cast("int64_t") long state, Pointer h, Pointer c);

    public static native void forward_stream(NativeLstm lstm, @Const Pointer chunk, @Cast("int64_t") long seqLen,
            @Cast("int64_t") long batch, @Cast("bool") boolean batchFirst, @Cast("int64_t") long state,
            Pointer output);

    public static native void set_cell_parameter(NativeLstmCell cell, String name, @Const Pointer data,
            @Cast("int64_t") long numel);

    public static native void forward_cell(NativeLstmCell cell, @Const Pointer input, @Cast("int64_t") long batch,
            @Const Pointer h0, @Const Pointer c0, Pointer h1, Pointer c1);

    /** Frees a model made without a deallocator; null does nothing. */
    public static native void destroy(NativeLstm lstm);

    /** Frees a cell made without a deallocator; null does nothing. */
    public static native void destroy(NativeLstmCell cell);
}
