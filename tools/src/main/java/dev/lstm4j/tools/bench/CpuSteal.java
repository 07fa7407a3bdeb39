package dev.lstm4j.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The share of CPU time the hypervisor gave to other guests (Linux's "steal" in {@code /proc/stat})
 * between two readings: on a virtual machine a core taken away for seconds halves a two-thread
 * forward's speed, and nothing in the process can prevent it, so the bench prints it beside each
 * row's times. Unavailable (NaN) where {@code /proc/stat} is not Linux's.
 */
public final class CpuSteal {
    private static final Path STAT = Path.of("/proc/stat");
    private final long steal;
    private final long total;

    private CpuSteal(long steal, long total) {
        this.steal = steal;
        this.total = total;
    }

    /** The machine's counters now, or null where there are none. */
    public static CpuSteal now() {
        try {
            List<String> lines = Files.readAllLines(STAT);
            return lines.isEmpty() ? null : parse(lines.get(0));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The aggregate line of {@code /proc/stat}: {@code cpu user nice system idle iowait irq softirq
     * steal ...} in clock ticks; null if it is not one (a kernel before 2.6.11 has no steal field).
     */
    static CpuSteal parse(String line) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 9 || !f[0].equals("cpu")) {
            return null;
        }
        long total = 0;
        // guest and guest_nice (fields 9 and 10) are already counted in user and nice
        for (int i = 1; i <= 8; i++) {
            total += Long.parseLong(f[i]);
        }
        return new CpuSteal(Long.parseLong(f[8]), total);
    }

    /** Percent of all CPU time between {@code before} and {@code after} that was stolen; NaN if unknown. */
    public static double percent(CpuSteal before, CpuSteal after) {
        if (before == null || after == null || after.total <= before.total) {
            return Double.NaN;
        }
        return 100.0 * (after.steal - before.steal) / (after.total - before.total);
    }
}
