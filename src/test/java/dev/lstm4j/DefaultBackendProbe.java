package dev.lstm4j;

import dev.lstm4j.tools.golden.GoldenCase;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Child JVM of {@link DefaultBackendTest} and the pure-Java class path test: creates models without a
 * backend and prints what it saw, one {@code key value} line each: {@code lstm}/{@code cell} the backend
 * picked and the worst error against the golden cases given as arguments (an LSTM case, then a cell
 * case), {@code log} each line logged by {@code dev.lstm4j}, {@code explicit} what naming NATIVE did.
 */
public final class DefaultBackendProbe {
    /** Records logged through System.Logger "dev.lstm4j" (the JDK's default finder maps it to JUL). */
    public static final List<LogRecord> RECORDS = new CopyOnWriteArrayList<>();
    // Held strongly: JUL keeps loggers only weakly, and the handler would go with a collected one.
    private static final java.util.logging.Logger JUL = java.util.logging.Logger.getLogger("dev.lstm4j");

    private DefaultBackendProbe() {
    }

    /** Starts capturing what {@code dev.lstm4j} logs (idempotent). */
    public static synchronized void capture() {
        for (Handler h : JUL.getHandlers()) {
            if (h instanceof Capture) {
                return;
            }
        }
        JUL.addHandler(new Capture());
    }

    private static final class Capture extends Handler {
        @Override
        public void publish(LogRecord r) {
            RECORDS.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    public static void main(String[] args) throws Exception {
        capture();
        GoldenCase lstmCase = GoldenCase.load(Path.of(args[0]));
        GoldenCase cellCase = GoldenCase.load(Path.of(args[1]));
        for (int round = 0; round < 2; round++) { // the second round must log nothing more
            try (Lstm lstm = Lstm.create(lstmCase.lstmConfig(), lstmCase.weights())) {
                LstmOutput out = lstm.forward(lstmCase.tensor("input"), lstmCase.tensor("h0"), lstmCase.tensor("c0"));
                double err = Math.max(out.output().maxAbsDiff(lstmCase.tensor("output")),
                        Math.max(out.hN().maxAbsDiff(lstmCase.tensor("h_n")), out.cN().maxAbsDiff(lstmCase.tensor("c_n"))));
                System.out.println("lstm " + lstm.backend() + " " + err + " " + lstmCase.tolerance());
            }
            try (LstmCell cell = LstmCell.create(cellCase.cellConfig(), cellCase.weights())) {
                LstmCellOutput out = cell.forward(cellCase.tensor("input"), cellCase.tensor("h0"), cellCase.tensor("c0"));
                double err = Math.max(out.h1().maxAbsDiff(cellCase.tensor("h1")), out.c1().maxAbsDiff(cellCase.tensor("c1")));
                System.out.println("cell " + cell.backend() + " " + err + " " + cellCase.tolerance());
            }
        }
        for (LogRecord r : RECORDS) {
            System.out.println("log " + r.getLevel() + " " + r.getMessage());
        }
        try (Lstm lstm = Lstm.create(lstmCase.lstmConfig(), lstmCase.weights(), Backend.NATIVE, Device.cpu())) {
            System.out.println("explicit " + lstm.backend());
        } catch (IllegalStateException e) {
            System.out.println("explicit refused " + e.getMessage());
        }
        System.out.println("available " + Backend.NATIVE.isAvailable() + " " + Backend.NATIVE.unavailableReason());
    }
}
