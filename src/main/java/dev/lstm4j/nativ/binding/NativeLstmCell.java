package dev.lstm4j.nativ.binding;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoDeallocator;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * Binding of C++ {@code lstm4j::LstmCell}; its typed calls are in {@link NativeCalls}, and it is
 * freed by {@link NativeCalls#destroy}. Internal: use {@link dev.lstm4j.LstmCell}.
 */
@Properties(inherit = Lstm4jNative.class)
@Name("lstm4j::LstmCell")
public class NativeLstmCell extends Pointer {
    static {
        Loader.load();
    }

    /** See lstm.h; the codes are {@link NativeCodes}' values. */
    public NativeLstmCell(long inputSize, long hiddenSize, boolean bias, NativeCodes.Dtype dtype,
            NativeCodes.DeviceType deviceType, int deviceIndex) {
        super((Pointer) null);
        allocate(inputSize, hiddenSize, bias, dtype.code(), deviceType.code(), deviceIndex);
    }

    @NoDeallocator
    private native void allocate(@Cast("int64_t") long inputSize, @Cast("int64_t") long hiddenSize,
            @Cast("bool") boolean bias, @Cast("lstm4j::Dtype") int dtype,
            @Cast("lstm4j::DeviceType") int deviceType, int deviceIndex);

    public native void prepare();

    /**
     * Before {@link #prepare()}: the most threads a CPU forward uses, the caller included (0: all of
     * the process-wide team); see lstm.h.
     */
    public native void set_num_threads(int threads);
}
