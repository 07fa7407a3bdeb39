package dev.lstm4j.tools.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A stand-in for the DJL peer ({@code peers/djl}, not built in CI) that speaks its protocol, so that
 * {@code bench --peers}'s plumbing is tested: it is "ready" for {@code stream_b1_t1_h256} (every
 * call takes 2 ms), fails at the first forward on {@code b1_t128_h256}, and writes a line of its own
 * on stdout, as libraries do, before each reply.
 */
public final class FakePeer {
    private FakePeer() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String row = "";
        for (String line; (line = in.readLine()) != null && !line.equals("quit");) {
            System.out.println("some library's own output");
            String[] f = line.split(" ");
            String reply;
            if (f[0].equals("load")) {
                row = f[1];
                reply = "ready";
            } else if (f[0].equals("call")) {
                reply = row.equals("b1_t128_h256") ? "error: EngineException: shape mismatch, say" : "ns 2000000";
                Thread.sleep(2);
            } else if (f[0].equals("block")) {
                StringBuilder sb = new StringBuilder("ms");
                for (int i = 0; i < Integer.parseInt(f[1]); i++) {
                    Thread.sleep(2);
                    sb.append(" 2.000000");
                }
                reply = sb.toString();
            } else if (f[0].equals("jit")) {
                reply = "jit 0";
            } else if (f[0].equals("diff")) {
                reply = "diff 1.000e-07";
            } else {
                reply = "error: unknown command";
            }
            System.out.println("@lstm4j-peer " + reply);
            System.out.flush();
        }
    }
}
