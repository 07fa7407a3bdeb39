package dev.lstm4j.examples;

import dev.lstm4j.Lstm;
import dev.lstm4j.LstmStream;
import dev.lstm4j.LstmStreamPool;
import dev.lstm4j.Tensor;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * The stream pool example of README.md, verbatim between the tag comments: a voice-activity service
 * with one stream per call. {@code StreamServerExampleTest} checks that README.md holds the block and
 * runs it.
 */
public final class StreamServerExample implements AutoCloseable {
    // tag::pool[]
    private final LstmStreamPool pool;
    private final Map<String, LstmStream> calls = new ConcurrentHashMap<>();

    public StreamServerExample(Lstm vad) {                    // one model, shared by every call
        pool = LstmStreamPool.builder(vad)
                .maxBatch(64)                                  // most calls in one batched step
                .maxWait(Duration.ofMillis(2))                 // longest a frame waits for company
                .maxPendingPerStream(8)                        // backpressure: a 9th waiting frame is refused
                .idleTimeout(Duration.ofSeconds(30))           // calls that went silent expire
                .build();
    }

    public void callStarted(String callId) {
        calls.put(callId, pool.open());                        // zero state; or pool.open(h0, c0)
    }

    /** One frame of a call's features, (input_size), from any thread; its output is (H_out). */
    public CompletableFuture<Tensor> frame(String callId, Tensor features) {
        try {
            return calls.get(callId).submit(features);         // a call's frames run in order
        } catch (RejectedExecutionException behind) {
            return CompletableFuture.failedFuture(behind);     // the pool is behind: shed this frame
        }
    }

    public void callEnded(String callId) {
        calls.remove(callId).close();                          // its submitted frames still run
    }

    @Override
    public void close() {
        pool.close();                                          // runs every queued frame, then stops
    }
    // end::pool[]
}
