package dev.lstm4j.flink;

/** The LSTM's output for one {@link LstmChunk} (a Flink POJO). */
public class LstmChunkResult {
    /** The chunk's key. */
    public String key;
    /** The chunk's {@link LstmChunk#seq}. */
    public long seq;
    /** steps x H_out: the output of each step of the chunk. */
    public float[][] output;
    /** num_layers x H_out: h after the chunk's last step, every layer's. */
    public float[][] hN;

    /** For Flink's POJO serializer. */
    public LstmChunkResult() {
    }

    /** A result. */
    public LstmChunkResult(String key, long seq, float[][] output, float[][] hN) {
        this.key = key;
        this.seq = seq;
        this.output = output;
        this.hN = hN;
    }
}
