package dev.lstm4j.examples;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.DType;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.LstmState;
import dev.lstm4j.ModelOptions;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The Java examples of README.md, verbatim between the tag comments: {@code ReadmeExamplesTest}
 * checks that README.md holds each tagged block and runs them, so the README stays true.
 */
public final class ReadmeExamples {
    private ReadmeExamples() {
    }

    /** Loads the LSTM inside a larger PyTorch model and runs a batch. */
    public static LstmOutput loadCheckpoint(Path checkpoint, Tensor x) throws IOException {
        // tag::load[]
        // Saved in Python with: torch.save(model.state_dict(), "tagger.pt")
        StateDict weights = StateDict.load(checkpoint)       // .pt or .safetensors
                .withPrefix("encoder.");                     // the nn.LSTM at model.encoder
        LstmConfig config = LstmConfig.inferFrom(weights)    // sizes, layers, bidirectional, proj_size
                .batchFirst(true)                            // not recorded in a state_dict
                .build();
        try (Lstm lstm = Lstm.create(config, weights, Backend.NATIVE, Device.cpu())) {
            LstmOutput out = lstm.forward(x);                // x: (batch, seq, input_size)
            // end::load[]
            return out;
        }
    }

    /** The same on a GPU when there is one. */
    public static LstmOutput onGpuIfAny(LstmConfig config, StateDict weights, Tensor x) {
        // tag::cuda[]
        Device device = Backend.NATIVE.cudaDeviceCount() > 0 ? Device.cuda(0) : Device.cpu();
        try (Lstm lstm = Lstm.create(config, weights, Backend.NATIVE, device)) {
            return lstm.forward(x);  // copied to the device and back; weights stay there
        }
        // end::cuda[]
    }

    /** A model on two threads. */
    public static LstmOutput onTwoThreads(LstmConfig config, StateDict weights, Tensor x) {
        // tag::threads[]
        ModelOptions options = ModelOptions.builder().threads(2).build();  // the caller + 1 worker
        try (Lstm lstm = Lstm.create(config, weights, Backend.NATIVE, Device.cpu(), options)) {
            return lstm.forward(x);  // the same bits with any thread count
        }
        // end::threads[]
    }

    /** A batch of sequences of different lengths. */
    public static LstmOutput variableLengths(Lstm lstm, Tensor padded) {
        // tag::lengths[]
        int[] lengths = {10, 4, 7};                          // one per sequence of the padded batch
        LstmOutput out = lstm.forward(padded, lengths, null, null);
        // out.output() is zero past each length; out.hN() holds each sequence's last valid step
        // end::lengths[]
        return out;
    }

    /** Streams a long input step by step, with state kept between calls. */
    public static Tensor stream(Lstm lstm, Tensor[] steps) {
        // tag::stream[]
        LstmState state = lstm.newState(1);                  // batch 1, zeros
        Tensor out = Tensor.zeros(DType.FLOAT32, 1, 1, lstm.config().realHiddenSize());
        for (Tensor step : steps) {                          // each (1, 1, input_size)
            lstm.forwardInto(step, state, out);              // advances state; allocates nothing
        }
        // end::stream[]
        return out;
    }
}
