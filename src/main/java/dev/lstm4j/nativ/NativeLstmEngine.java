package dev.lstm4j.nativ;

import dev.lstm4j.Tensor;
import dev.lstm4j.nativ.binding.NativeCalls;
import dev.lstm4j.nativ.binding.NativeErrors;
import dev.lstm4j.nativ.binding.NativeLstm;
import dev.lstm4j.spi.LstmEngine;
import java.lang.ref.Cleaner;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.Pointer;

/** Runs forward passes on a prepared {@link NativeLstm}. */
final class NativeLstmEngine implements LstmEngine, TorchTensors {
    private final NativeState<NativeLstm> state;
    private final NativeLstm lstm;
    private final Cleaner.Cleanable cleanable;
    private final boolean batchFirst;
    // Zero-copy calls come through TorchTensors, not through Lstm's own lifecycle: this lock keeps
    // close() from freeing the model under them.
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    NativeLstmEngine(NativeState<NativeLstm> state, boolean batchFirst) {
        this.state = state;
        this.lstm = state.model;
        this.cleanable = NativeState.CLEANER.register(this, state);
        this.batchFirst = batchFirst;
    }

    @Override
    public Output forward(org.bytedeco.pytorch.Tensor input, org.bytedeco.pytorch.Tensor h0,
            org.bytedeco.pytorch.Tensor c0) {
        java.util.Objects.requireNonNull(input, "input");
        long[] out = new long[1];
        long[] hN = new long[1];
        long[] cN = new long[1];
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("Lstm is closed");
            }
            lstm.forward_tensors(input.address(), batchFirst, h0 == null ? 0 : h0.address(),
                    c0 == null ? 0 : c0.address(), out, hN, cN);
        } catch (RuntimeException e) {
            throw e instanceof IllegalStateException ? e : NativeErrors.translate(e);
        } finally {
            lock.readLock().unlock();
        }
        return new Output(own(out[0]), own(hN[0]), own(cN[0]));
    }

    /** A presets Tensor owning its own reference to the tensor behind {@code handle}, which is freed. */
    private static org.bytedeco.pytorch.Tensor own(long handle) {
        Pointer at = new Pointer() {
            {
                address = handle;
            }
        };
        org.bytedeco.pytorch.Tensor owned = new org.bytedeco.pytorch.Tensor(new org.bytedeco.pytorch.Tensor(at));
        NativeLstm.delete_tensor(handle);
        return owned;
    }

    @Override
    public void forward(Tensor input, int seqLen, int batch, boolean batchFirst, Tensor h0, Tensor c0,
            Tensor output, Tensor hN, Tensor cN) {
        run(input, null, seqLen, batch, batchFirst, h0, c0, output, hN, cN);
    }

    @Override
    public void forwardPacked(Tensor data, int[] batchSizes, Tensor h0, Tensor c0, Tensor output, Tensor hN,
            Tensor cN) {
        long[] sizes = new long[batchSizes.length];
        for (int t = 0; t < sizes.length; t++) {
            sizes[t] = batchSizes[t];
        }
        run(data, sizes, 0, 0, false, h0, c0, output, hN, cN);
    }

    /** A padded forward ({@code batchSizes} null) or a packed one, through staging buffers. */
    private void run(Tensor input, long[] batchSizes, int seqLen, int batch, boolean batchFirst, Tensor h0,
            Tensor c0, Tensor output, Tensor hN, Tensor cN) {
        try (var loan = state.borrow()) {
            Staging s = loan.staging;
            Pointer in = s.in(Staging.INPUT, input);
            Pointer h = s.in(Staging.H0, h0);
            Pointer c = s.in(Staging.C0, c0);
            Pointer out = s.forOutput(Staging.OUTPUT, output);
            Pointer hOut = s.forOutput(Staging.H_N, hN);
            Pointer cOut = s.forOutput(Staging.C_N, cN);
            if (batchSizes == null) {
                NativeCalls.forward(lstm, in, seqLen, batch, batchFirst, h, c, out, hOut, cOut);
            } else {
                NativeCalls.forward_packed(lstm, in, batchSizes, batchSizes.length, h, c, out, hOut, cOut);
            }
            s.out(Staging.OUTPUT, output);
            s.out(Staging.H_N, hN);
            s.out(Staging.C_N, cN);
        } catch (RuntimeException e) {
            throw NativeErrors.translate(e);
        }
    }

    @Override
    public DeviceStream openStream(int batch) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("Lstm is closed");
            }
            // Models that run the device scan: CUDA models of full precision (and, for the tests,
            // the device algorithm on the CPU); every other CPU model keeps its state in Java.
            if (!NativeCalls.streams_on_device(lstm)) {
                return null;
            }
            return new NativeDeviceStream(NativeCalls.new_device_state(lstm, batch));
        } catch (RuntimeException e) {
            throw e instanceof IllegalStateException ? e : NativeErrors.translate(e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A state on the model's device; freed by close() or, if dropped, by the cleaner. */
    private final class NativeDeviceStream implements DeviceStream {
        private final long handle;
        private final Cleaner.Cleanable freeing;

        NativeDeviceStream(long handle) {
            this.handle = handle;
            this.freeing = NativeState.CLEANER.register(this, () -> NativeCalls.delete_device_state(handle));
        }

        @Override
        public void set(Tensor h, Tensor c) {
            try (var loan = state.borrow()) {
                Staging s = loan.staging;
                NativeCalls.set_device_state(lstm, handle, s.in(Staging.H0, h), s.in(Staging.C0, c));
            } catch (RuntimeException e) {
                throw NativeErrors.translate(e);
            }
        }

        @Override
        public void get(Tensor h, Tensor c) {
            try (var loan = state.borrow()) {
                Staging s = loan.staging;
                NativeCalls.get_device_state(lstm, handle, s.forOutput(Staging.H_N, h), s.forOutput(Staging.C_N, c));
                s.out(Staging.H_N, h);
                s.out(Staging.C_N, c);
            } catch (RuntimeException e) {
                throw NativeErrors.translate(e);
            }
        }

        @Override
        public void forward(Tensor chunk, int seqLen, int batch, boolean batchFirst, Tensor output) {
            try (var loan = state.borrow()) {
                Staging s = loan.staging;
                NativeCalls.forward_stream(lstm, s.in(Staging.INPUT, chunk), seqLen, batch, batchFirst, handle,
                        s.forOutput(Staging.OUTPUT, output));
                s.out(Staging.OUTPUT, output);
            } catch (RuntimeException e) {
                throw NativeErrors.translate(e);
            }
        }

        @Override
        public void close() {
            freeing.clean();
        }
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            closed = true;
            cleanable.clean();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
