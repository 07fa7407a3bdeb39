package dev.lstm4j.nativ.binding;

/**
 * The codes that cross JNI, mirrored from {@code native/include/lstm4j/codes.h}: each enum here is
 * the C++ {@code enum class} of the same name, constant for constant ({@code kOneDnn} is
 * {@link Algorithm#ONEDNN}), with the same value. {@code NativeCodesTest} parses the header and
 * checks that they agree. Internal to the NATIVE backend.
 */
public final class NativeCodes {
    private NativeCodes() {}

    /** How a forward runs (C++ {@code lstm4j::Algorithm}); {@link #CUDNN} on CUDA devices only. */
    public enum Algorithm {
        AUTO(0), SCAN(1), ONEDNN(2), TEAM(3), DEVICE(4), CUDNN(5);

        private final int code;

        Algorithm(int code) {
            this.code = code;
        }

        /** The C++ value. */
        public int code() {
            return code;
        }
    }

    /** A model's element type (C++ {@code lstm4j::Dtype}). */
    public enum Dtype {
        FLOAT32(0), FLOAT64(1), BFLOAT16(2), FLOAT16(3);

        private final int code;

        Dtype(int code) {
            this.code = code;
        }

        /** The C++ value. */
        public int code() {
            return code;
        }
    }

    /** Where a model computes (C++ {@code lstm4j::DeviceType}). */
    public enum DeviceType {
        CPU(0), CUDA(1);

        private final int code;

        DeviceType(int code) {
            this.code = code;
        }

        /** The C++ value. */
        public int code() {
            return code;
        }
    }

    /** What kind of failure a native call reports (C++ {@code lstm4j::ErrorKind}). */
    public enum ErrorKind {
        INVALID_ARGUMENT(1), OUT_OF_MEMORY(2), TORCH(3), UNAVAILABLE(4), INTERNAL(5);

        private final int code;

        ErrorKind(int code) {
            this.code = code;
        }

        /** The C++ value. */
        public int code() {
            return code;
        }

        /** The kind with this C++ value; {@link #INTERNAL} for an unknown one. */
        public static ErrorKind of(int code) {
            for (ErrorKind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return INTERNAL;
        }
    }
}
