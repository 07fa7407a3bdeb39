package dev.lstm4j.nativ;

import dev.lstm4j.Tensor;
import dev.lstm4j.nativ.binding.NativeCalls;
import dev.lstm4j.nativ.binding.NativeErrors;
import dev.lstm4j.nativ.binding.NativeLstmCell;
import dev.lstm4j.spi.LstmCellEngine;
import java.lang.ref.Cleaner;

/** Runs steps on a prepared {@link NativeLstmCell}. */
final class NativeLstmCellEngine implements LstmCellEngine {
    private final NativeState<NativeLstmCell> state;
    private final Cleaner.Cleanable cleanable;

    NativeLstmCellEngine(NativeState<NativeLstmCell> state) {
        this.state = state;
        this.cleanable = NativeState.CLEANER.register(this, state);
    }

    @Override
    public void forward(Tensor input, int batch, Tensor h0, Tensor c0, Tensor h1, Tensor c1) {
        try (var loan = state.borrow()) {
            Staging s = loan.staging;
            NativeCalls.forward_cell(state.model, s.in(Staging.INPUT, input), batch, s.in(Staging.H0, h0),
                    s.in(Staging.C0, c0), s.forOutput(Staging.H_N, h1), s.forOutput(Staging.C_N, c1));
            s.out(Staging.H_N, h1);
            s.out(Staging.C_N, c1);
        } catch (RuntimeException e) {
            throw NativeErrors.translate(e);
        }
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
