package dev.lstm4j.nativ.binding;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoDeallocator;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.StdString;

/**
 * Binding of C++ {@code lstm4j::Lstm} (native/include/lstm4j/lstm.h); its typed calls are in
 * {@link NativeCalls}. A failed call throws a {@link RuntimeException} that
 * {@link NativeErrors#translate} turns into the exception to throw. The object is created without
 * a JavaCPP deallocator (which would count against JavaCPP's memory limits) and freed by
 * {@link NativeCalls#destroy}. Internal: use {@link dev.lstm4j.Lstm}.
 */
@Properties(inherit = Lstm4jNative.class)
@Name("lstm4j::Lstm")
public class NativeLstm extends Pointer {
    static {
        Loader.load();
    }

    /** See lstm.h; the codes are {@link NativeCodes}' values. */
    public NativeLstm(long inputSize, long hiddenSize, long numLayers, boolean bias, boolean bidirectional,
            long projSize, NativeCodes.Dtype dtype, NativeCodes.DeviceType deviceType, int deviceIndex) {
        super((Pointer) null);
        allocate(inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, dtype.code(), deviceType.code(),
                deviceIndex);
    }

    @NoDeallocator
    private native void allocate(@Cast("int64_t") long inputSize, @Cast("int64_t") long hiddenSize,
            @Cast("int64_t") long numLayers, @Cast("bool") boolean bias, @Cast("bool") boolean bidirectional,
            @Cast("int64_t") long projSize, @Cast("lstm4j::Dtype") int dtype,
            @Cast("lstm4j::DeviceType") int deviceType, int deviceIndex);

    public native void prepare();

    /**
     * Before {@link #prepare()}: the most threads a CPU forward uses, the caller included (0: all of
     * the process-wide team); see lstm.h.
     */
    public native void set_num_threads(int threads);

    /** Before {@link #prepare()}; see lstm.h. */
    public void setCpuAlgorithm(NativeCodes.Algorithm algorithm) {
        set_cpu_algorithm(algorithm.code());
    }

    private native void set_cpu_algorithm(@Cast("lstm4j::Algorithm") int algorithm);

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
    public static native @StdString String cuda_unavailable_reason();

    /**
     * Which LSTM cell the device scan runs on CUDA device {@code deviceIndex}: {@code "kernel: ..."}
     * (lstm4j's cell kernel), {@code "libtorch: ..."} (LibTorch's fused cell plus a copy, with why
     * the kernel did not load) or {@code "unavailable: ..."} without CUDA.
     */
    public static native @StdString String cuda_cell_path(int deviceIndex);
}
