package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.examples.StreamServerExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** README.md's stream pool example is {@link StreamServerExample}'s tagged block, and it serves calls exactly. */
class StreamServerExampleTest {
    @Test
    void readmeHoldsTheExample() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/lstm4j/examples/StreamServerExample.java"));
        Matcher m = Pattern.compile("// tag::pool\\[\\]\\n(.*?)\\n\\s*// end::pool\\[\\]", Pattern.DOTALL).matcher(source);
        assertTrue(m.find());
        String block = normalize(m.group(1));
        assertTrue(normalize(Files.readString(Path.of("README.md"))).contains(block), "README.md lacks:\n" + block);
    }

    private static String normalize(String text) {
        List<String> lines = text.lines().collect(Collectors.toList());
        int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent).stripTrailing())
                .collect(Collectors.joining("\n"));
    }

    @Test
    void callsAreServedAsIfAlone() throws Exception {
        LstmConfig config = LstmConfig.builder(6, 16).numLayers(2).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 16, DType.FLOAT32, new Random(21));
        Random rnd = new Random(22);
        int callCount = 5;
        int frames = 12;
        Tensor[][] in = new Tensor[callCount][frames];
        for (Tensor[] call : in) {
            for (int t = 0; t < frames; t++) {
                call[t] = TestSupport.random(new int[] {6}, DType.FLOAT32, rnd, 1.0);
            }
        }
        try (Lstm vad = Lstm.create(config, w, Backend.NATIVE, Device.cpu())) {
            List<List<CompletableFuture<Tensor>>> got = new ArrayList<>();
            try (StreamServerExample server = new StreamServerExample(vad)) {
                List<Thread> callers = new ArrayList<>();
                for (int c = 0; c < callCount; c++) {
                    String id = "call-" + c;
                    List<CompletableFuture<Tensor>> outs = new ArrayList<>();
                    got.add(outs);
                    Tensor[] call = in[c];
                    server.callStarted(id);
                    callers.add(new Thread(() -> {
                        for (Tensor f : call) {
                            outs.add(server.frame(id, f));
                            outs.get(outs.size() - 1).join(); // a live source: the next frame comes later
                        }
                        server.callEnded(id);
                    }));
                }
                callers.forEach(Thread::start);
                for (Thread t : callers) {
                    t.join();
                }
            }
            for (int c = 0; c < callCount; c++) {
                LstmState st = vad.newState(1);
                for (int t = 0; t < frames; t++) {
                    Tensor want = Tensor.zeros(DType.FLOAT32, 1, 1, 16);
                    vad.forwardInto(in[c][t].reshape(1, 1, 6), st, want);
                    assertArrayEquals(want.floatData(), got.get(c).get(t).join().floatData(), "call " + c + " frame " + t);
                }
            }
        }
    }
}
