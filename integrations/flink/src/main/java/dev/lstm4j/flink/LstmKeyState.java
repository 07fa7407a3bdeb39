package dev.lstm4j.flink;

/**
 * One key's recurrent state between chunks, as Flink keeps it in keyed state: a POJO (so its
 * serializer is Flink's and the state can evolve), {@code h} (num_layers x H_out) and {@code c}
 * (num_layers x hidden_size), row-major.
 */
public class LstmKeyState {
    /** h of every layer, num_layers * H_out values. */
    public float[] h;
    /** c of every layer, num_layers * hidden_size values. */
    public float[] c;

    /** For Flink's POJO serializer. */
    public LstmKeyState() {
    }

    /** A state of the given values (not copied). */
    public LstmKeyState(float[] h, float[] c) {
        this.h = h;
        this.c = c;
    }
}
