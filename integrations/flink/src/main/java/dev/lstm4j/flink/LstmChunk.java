package dev.lstm4j.flink;

/**
 * The next steps of one key's sequence: a Flink POJO (public fields, no-argument constructor), so Flink
 * serializes it with its own POJO serializer, not Kryo.
 */
public class LstmChunk {
    /** The key whose sequence this continues (the stream is keyed by it). */
    public String key;
    /** The chunk's position in the key's sequence, carried to the result (not used for ordering). */
    public long seq;
    /** steps x input_size. */
    public float[][] steps;

    /** For Flink's POJO serializer. */
    public LstmChunk() {
    }

    /** A chunk of {@code steps} for {@code key}. */
    public LstmChunk(String key, long seq, float[][] steps) {
        this.key = key;
        this.seq = seq;
        this.steps = steps;
    }
}
