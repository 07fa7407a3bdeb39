package dev.lstm4j.tools.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Stand-ins for the peers ({@code peers/djl}, {@code peers/ort}: not built in CI) that speak their
 * protocol, so that {@code bench --peers}'s plumbing is tested. {@link FakePeer} (in DJL's place) is
 * "ready" for {@code stream_b1_t1_h256} (every call takes 2 ms) and fails at the first forward on
 * {@code b1_t128_h256}; {@link Ort} (in ORT's place) takes 3 ms on every row but answers
 * {@code unsupported} for {@code b1_t128_h256}; {@link Dying} exits in the middle of its first timed
 * block, after a line on its log. Each writes a line of its own on stdout, as libraries do, before each
 * reply, and checks that the row files it is told about are there.
 */
public final class FakePeer {
    private FakePeer() {
    }

    public static void main(String[] args) throws Exception {
        serve(Path.of(args[0]), 2, "b1_t128_h256", "error: EngineException: shape mismatch, say", false);
    }

    /** The ORT stand-in. */
    public static final class Ort {
        private Ort() {
        }

        public static void main(String[] args) throws Exception {
            serve(Path.of(args[0]), 3, "b1_t128_h256", "unsupported: no such thing in ONNX, say", false);
        }
    }

    /** A peer whose process dies during its first timed block. */
    public static final class Dying {
        private Dying() {
        }

        public static void main(String[] args) throws Exception {
            serve(Path.of(args[0]), 2, "", "", true);
        }
    }

    private static void serve(Path dir, int ms, String badRow, String badReply, boolean dies) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String row = "";
        for (String line; (line = in.readLine()) != null && !line.equals("quit");) {
            System.out.println("some library's own output");
            String[] f = line.split(" ");
            String reply;
            if (f[0].equals("load")) {
                row = f[1];
                // the bench writes a row's files once, for every peer, before the first load
                reply = Files.exists(dir.resolve(row + ".properties")) && Files.exists(dir.resolve(row + ".input"))
                        ? "ready" : "error: row files missing";
                if (reply.equals("ready") && row.equals(badRow) && badReply.startsWith("unsupported")) {
                    reply = badReply;
                }
            } else if (f[0].equals("call")) {
                reply = row.equals(badRow) ? badReply : "ns " + ms * 1_000_000;
                Thread.sleep(ms);
            } else if (f[0].equals("block")) {
                if (dies) {
                    System.err.println("fatal: the stand-in gives up");
                    System.exit(3);
                }
                StringBuilder sb = new StringBuilder("ms");
                for (int i = 0; i < Integer.parseInt(f[1]); i++) {
                    Thread.sleep(ms);
                    sb.append(' ').append(ms).append(".000000");
                }
                reply = sb.toString();
            } else if (f[0].equals("jit")) {
                reply = "jit 0";
            } else if (f[0].equals("diff")) {
                reply = Files.exists(dir.resolve(row + ".reference")) ? "diff 1.000e-07" : "error: no reference";
            } else {
                reply = "error: unknown command";
            }
            System.out.println("@lstm4j-peer " + reply);
            System.out.flush();
        }
    }
}
