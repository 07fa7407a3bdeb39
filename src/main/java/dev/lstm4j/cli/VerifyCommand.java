package dev.lstm4j.cli;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.golden.GoldenCase;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code lstm4j verify [--backend B] [--device D] FILE...}: one line {@code NAME max_abs_err=E PASS|FAIL}
 * per case, then {@code N passed, M failed}. Exit 0 if all pass, 1 if any fails, 2 if a file is missing,
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
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--backend") || a.equals("--device")) {
                if (i + 1 >= args.length) {
                    throw new Main.UsageException(a + " needs a value");
                }
                String v = args[++i];
                try {
                    if (a.equals("--backend")) {
                        backend = Backend.parse(v);
                    } else {
                        device = Device.parse(v);
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
            double e;
            try {
                e = c.run(backend, device);
            } catch (IllegalStateException | IllegalArgumentException ex) {
                // The backend or device cannot run here: no case can, so stop.
                err.println("lstm4j verify: " + ex.getMessage());
                return 2;
            }
            boolean ok = e <= c.tolerance();
            out.printf("%s max_abs_err=%.3e %s%n", c.name(), e, ok ? "PASS" : "FAIL");
            if (ok) {
                passed++;
            } else {
                failed++;
            }
        }
        out.printf("%d passed, %d failed%n", passed, failed);
        return badInput ? 2 : failed > 0 ? 1 : 0;
    }
}
