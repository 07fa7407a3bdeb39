package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's ready heap (oldest head frame first), against a sorted list: random adds and polls
 * interleaved, as streams enter after a submit or after a step and leave into a batch.
 */
class StreamPoolReadyHeapTest {
    @Test
    void pollsTheSmallestKeyFirstUnderRandomAddsAndPolls() {
        Random rnd = new Random(5);
        try (Lstm lstm = Lstm.create(LstmConfig.builder(2, 2).build(),
                TestSupport.randomWeights(LstmConfig.builder(2, 2).build().parameterShapes(), 2, DType.FLOAT32, rnd),
                Backend.JAVA, Device.cpu());
                LstmStreamPool pool = LstmStreamPool.builder(lstm).build()) {
            List<LstmStream> streams = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                streams.add(pool.open());
            }
            LstmStreamPool.ReadyHeap heap = new LstmStreamPool.ReadyHeap();
            Map<LstmStream, Long> keyOf = new IdentityHashMap<>();
            List<LstmStream> model = new ArrayList<>(); // kept sorted by key
            long polled = 0;
            for (int op = 0; op < 20_000; op++) {
                boolean add = model.isEmpty() || (model.size() < streams.size() && rnd.nextInt(3) != 0);
                if (add) {
                    LstmStream s;
                    do {
                        s = streams.get(rnd.nextInt(streams.size()));
                    } while (keyOf.containsKey(s));
                    long key = rnd.nextInt(1000); // duplicates on purpose
                    keyOf.put(s, key);
                    heap.add(s, key);
                    model.add(s);
                    model.sort(Comparator.comparingLong(keyOf::get));
                } else {
                    long smallest = keyOf.get(model.get(0));
                    assertEquals(smallest, keyOf.get(heap.peek()), "peek");
                    LstmStream s = heap.poll();
                    assertEquals(smallest, keyOf.get(s), "poll after " + op + " operations");
                    assertTrue(model.remove(s), "polled a stream that was not in the heap");
                    keyOf.remove(s);
                    polled++;
                }
                assertEquals(model.size(), heap.size());
            }
            assertTrue(polled > 5_000, "polled " + polled);
            heap.clear();
            assertTrue(heap.isEmpty());
            assertNull(heap.poll());
            LstmStream s = streams.get(0);
            heap.add(s, 7);
            assertSame(s, heap.poll());
        }
    }
}
