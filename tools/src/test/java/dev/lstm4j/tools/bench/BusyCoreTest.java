package dev.lstm4j.tools.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code --busy-core}'s process is a real noisy neighbour: it burns CPU time while it spins, none while paused. */
class BusyCoreTest {
    /** User-mode CPU time of a process so far, in clock ticks (field 14 of /proc/PID/stat). */
    private static long userTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]); // fields after "pid (comm)" start at field 3
    }

    private static long ticksOver(long pid, long millis) throws Exception {
        long before = userTicks(pid);
        Thread.sleep(millis);
        return userTicks(pid) - before;
    }

    @Test
    void spinsUntilPausedAndAgainWhenResumed() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "needs Linux's /proc to read a process's CPU time");
        try (BusyCore busy = BusyCore.start()) {
            long pid = Long.parseLong(busy.describe().replaceAll(".*\\(pid (\\d+)\\).*", "$1"));
            long spinning = ticksOver(pid, 2000);
            busy.pause();
            long paused = ticksOver(pid, 2000);
            busy.resume();
            long again = ticksOver(pid, 2000);
            String what = "CPU ticks over 2 s: spinning " + spinning + ", paused " + paused + ", resumed " + again;
            System.out.println(what);
            // 100 ticks a second on a free core; a loaded machine gives it less, but far more than when paused.
            assertTrue(spinning >= 20 && again >= 20, what);
            assertTrue(paused <= 10 && paused * 4 <= spinning, what);
            assertTrue(busy.isAlive(), what);
        }
    }
}
