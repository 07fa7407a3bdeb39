package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 item 2: the JAVA backend kept every model reachable from each calling thread (a
 * {@code ThreadLocal} workspace pointing back at its model): 400 create + forward + close cycles of a
 * 2-layer H=256 model grew the heap by about 6 MB each, and 200 models dropped without close kept
 * 200 threads. Here, in a child JVM with a 256 MB heap, the cycles run in constant memory, every
 * dropped model is collected and the thread count stays bounded by the shared team's size.
 */
class JavaEngineLeakTest {
    @Test
    void modelsAreFreedAndThreadsStayBounded() throws Exception {
        ForkedJvm.Result r = ForkedJvm.run(ForkedJvm.command(List.of("-Xmx256m", "-Xss4m",
                "--add-modules", "jdk.incubator.vector"), JavaEngineLeakProbe.class), null, 300);
        assertEquals(0, r.code(), r.out());
        long closed = value(r.out(), "heapGrowthMb closed ");
        long dropped = value(r.out(), "heapGrowthMb dropped ");
        long threads = value(r.out(), "extraThreads ");
        System.out.println("JavaEngineLeakTest: " + r.out().strip().replace('\n', ';'));
        assertTrue(closed < 32, "heap grew " + closed + " MB over 400 closed models: " + r.out());
        assertTrue(dropped < 32, "heap grew " + dropped + " MB with 200 dropped models: " + r.out());
        assertTrue(r.out().contains("collected 200 of 200"), r.out());
        int cores = Runtime.getRuntime().availableProcessors();
        assertTrue(threads <= cores + 2, threads + " extra threads after 200 dropped models on " + cores + " cores: "
                + r.out());
    }

    private static long value(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).map(l -> Long.parseLong(l.substring(prefix.length()).trim()))
                .findFirst().orElseThrow(() -> new AssertionError("no '" + prefix + "' line in: " + out));
    }
}
