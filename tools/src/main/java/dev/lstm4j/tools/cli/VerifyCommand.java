package dev.lstm4j.tools.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Precision;
import dev.lstm4j.tools.golden.GoldenCase;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code lstm4j verify [--backend B] [--device D] [--precision P] FILE...}: one line
 * {@code NAME max_abs_err=E PASS|FAIL} per case, then {@code N passed, M failed}. With
 * {@code --precision bfloat16|float16} the float32 LSTM cases run in that precision, within
 * {@link GoldenCase#HALF_TOLERANCE}, and the others are listed as skipped. Exit 0 if all pass, 1 if any fails, 2 if a file is missing,
 * truncated or malformed (one line naming the file and the problem) or the backend/device cannot run.
 */
final class VerifyCommand {
    private final PrintStream out;
    private final PrintStream err;

    VerifyCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        Backend backend = Backend.NATIVE;
        Device device = Device.cpu();
        Precision precision = Precision.FULL;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--backend") || a.equals("--device") || a.equals("--precision")) {
                if (i + 1 >= args.length) {
                    throw new Main.UsageException(a + " needs a value");
                }
                String v = args[++i];
                try {
                    if (a.equals("--backend")) {
                        backend = Backend.parse(v);
                    } else if (a.equals("--device")) {
                        device = Device.parse(v);
                    } else {
                        precision = Precision.fromName(v);
                    }
                } catch (IllegalArgumentException e) {
                    throw new Main.UsageException(e.getMessage());
                }
            } else if (a.startsWith("--")) {
                throw new Main.UsageException("unknown option " + a);
            } else {
                files.add(Path.of(a));
            }
        }
        if (files.isEmpty()) {
            throw new Main.UsageException("no case files given");
        }
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        boolean badInput = false;
        for (Path file : files) {
            GoldenCase c;
            try {
                c = GoldenCase.load(file);
            } catch (NoSuchFileException e) {
                err.println(file + ": no such file");
                badInput = true;
                continue;
            } catch (IOException e) {
                err.println(e.getMessage().startsWith(file.toString()) ? e.getMessage() : file + ": " + e.getMessage());
                badInput = true;
                continue;
            }
            if (!c.supports(precision)) {
                out.printf("%s SKIP (%s runs float32 LSTM cases)%n", c.name(), precision);
                skipped++;
                continue;
            }
            double e;
            try {
                e = c.run(backend, device, precision);
            } catch (IllegalStateException | IllegalArgumentException ex) {
                // The backend or device cannot run here: no case can, so stop.
                err.println("lstm4j verify: " + ex.getMessage());
                return 2;
            }
            boolean ok = e <= c.tolerance(precision);
            out.printf("%s max_abs_err=%.3e %s%n", c.name(), e, ok ? "PASS" : "FAIL");
            if (ok) {
                passed++;
            } else {
                failed++;
            }
        }
        out.printf("%d passed, %d failed%s%n", passed, failed, skipped > 0 ? ", " + skipped + " skipped" : "");
        return badInput ? 2 : failed > 0 ? 1 : 0;
    }
}
