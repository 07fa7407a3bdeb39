package dev.lstm4j.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The step team: every part runs exactly once whoever claims it, a part's exception reaches the
 * caller, and idle workers end and come back with the next call (so an idle process holds no
 * lstm4j threads, and a team never holds more than size - 1).
 */
class TeamTest {
    @Test
    void partsRunOnceAndIdleWorkersEndAndRestart() throws Exception {
        Team team = new Team(3, "team-test-", 50_000_000L); // workers end after 50 ms idle
        try {
            for (int round = 0; round < 3; round++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(40);
                for (int call = 0; call < 200; call++) {
                    team.run(40, p -> runs.incrementAndGet(p));
                }
                for (int p = 0; p < 40; p++) {
                    assertEquals(200, runs.get(p), "part " + p + " in round " + round);
                }
                assertTrue(team.liveWorkers() <= 2, team.liveWorkers() + " workers");
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (team.liveWorkers() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(0, team.liveWorkers(), "idle workers did not end in round " + round);
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> team.run(8, p -> {
                if (p == 5) {
                    throw new IllegalStateException("part 5");
                }
            }));
            assertEquals("part 5", e.getMessage());
            assertEquals(2, team.liveWorkers(), "the call restarted both workers");
        } finally {
            team.close();
        }
    }
}
