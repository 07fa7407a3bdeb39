package dev.lstm4j.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CpuStealTest {
    @Test
    void stealIsTheStolenShareOfAllTicksBetweenTwoReadings() {
        // user nice system idle iowait irq softirq steal guest guest_nice, as Linux prints them
        CpuSteal a = CpuSteal.parse("cpu  1000 0 200 5000 10 0 20 70 300 0");
        CpuSteal b = CpuSteal.parse("cpu  1600 0 250 5100 10 0 30 110 800 0");
        // ticks: 600 + 50 + 100 + 10 + 40 = 800, of which 40 stolen; guest time is inside user already
        assertEquals(5.0, CpuSteal.percent(a, b), 1e-12);
    }

    @Test
    void unknownWhereThereAreNoCounters() {
        assertNull(CpuSteal.parse("cpu0 1 2 3 4 5 6 7 8"));
        assertNull(CpuSteal.parse("cpu 1 2 3 4")); // a kernel without the steal field
        CpuSteal a = CpuSteal.parse("cpu 1 0 0 1 0 0 0 0");
        assertTrue(Double.isNaN(CpuSteal.percent(null, a)));
        assertTrue(Double.isNaN(CpuSteal.percent(a, a))); // no time passed
    }

    @Test
    void readsThisMachine() {
        CpuSteal now = CpuSteal.now();
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertNotNull(now);
        }
    }
}
