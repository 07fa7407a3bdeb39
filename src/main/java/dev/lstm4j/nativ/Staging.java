package dev.lstm4j.nativ;

import dev.lstm4j.DType;
import dev.lstm4j.NativeException;
import dev.lstm4j.Tensor;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Native copies of one call's tensors, in buffers kept for the next call and grown as needed: the
 * one place of the NATIVE backend that tells float32 from float64 data. JNI would copy a Java array
 * argument in and back out on every call (into freshly allocated memory: 3.5 ms of an 88 ms forward
 * at B=64, T=128, H=256); here each crosses once. The buffers come from {@code malloc}, outside
 * JavaCPP's accounting, so that they do not count against its physical-memory limit (by default a
 * multiple of -Xmx, which a few large models exceed on a small heap). Not thread-safe: one call at
 * a time.
 */
final class Staging implements AutoCloseable {
    static final int INPUT = 0;
    static final int H0 = 1;
    static final int C0 = 2;
    static final int OUTPUT = 3;
    static final int H_N = 4;
    static final int C_N = 5;
    private static final int SLOTS = 6;

    private final boolean f64;
    private final Pointer[] raw = new Pointer[SLOTS];
    private final Pointer[] typed = new Pointer[SLOTS];
    private final long[] capacity = new long[SLOTS];

    /** Buffers of the model's host dtype. */
    Staging(DType dtype) {
        this.f64 = dtype == DType.FLOAT64;
    }

    /** The slot's buffer holding a copy of {@code t}, or null when {@code t} is. */
    Pointer in(int slot, Tensor t) {
        if (t == null) {
            return null;
        }
        Pointer p = buffer(slot, t.numel());
        if (f64) {
            ((DoublePointer) p).put(t.doubleData(), 0, t.numel());
        } else {
            ((FloatPointer) p).put(t.floatData(), 0, t.numel());
        }
        return p;
    }

    /** The slot's buffer, large enough for {@code t}'s elements, to be read back by {@link #out}. */
    Pointer forOutput(int slot, Tensor t) {
        return buffer(slot, t.numel());
    }

    /** t's data <- the slot's buffer. */
    void out(int slot, Tensor t) {
        if (f64) {
            ((DoublePointer) typed[slot]).get(t.doubleData(), 0, t.numel());
        } else {
            ((FloatPointer) typed[slot]).get(t.floatData(), 0, t.numel());
        }
    }

    private Pointer buffer(int slot, long numel) {
        if (capacity[slot] < numel) {
            free(slot);
            long bytes = Math.max(1, numel) * (f64 ? Double.BYTES : Float.BYTES);
            Pointer p = Pointer.malloc(bytes);
            if (p == null || p.isNull()) {
                throw new NativeException(NativeException.Kind.OUT_OF_MEMORY,
                        "out of memory: cannot allocate " + bytes + " bytes of native staging memory");
            }
            raw[slot] = p;
            typed[slot] = f64 ? new DoublePointer(p).capacity(numel) : new FloatPointer(p).capacity(numel);
            capacity[slot] = numel;
        }
        return typed[slot];
    }

    private void free(int slot) {
        if (raw[slot] != null) {
            Pointer.free(raw[slot]);
            raw[slot] = null;
            typed[slot] = null;
            capacity[slot] = 0;
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < SLOTS; i++) {
            free(i);
        }
    }
}
