package dev.lstm4j.integrations;

import dev.lstm4j.Backend;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;

/** How the integrations turn their {@code backend} and {@code device} parameters into a model. */
public final class Models {
    private Models() {
    }

    /**
     * Builds the model on a worker. {@code backend} is a {@link Backend} name or {@code auto}: NATIVE,
     * falling back to JAVA on the CPU when NATIVE cannot load here (no JavaCPP natives for this platform, say).
     *
     * @param backend {@code auto}, {@code native}, {@code java} or {@code libtorch} (as {@link Backend#parse})
     * @param device  as {@link Device#parse}
     */
    public static Lstm create(LstmConfig config, StateDict weights, String backend, String device) {
        Device dev = Device.parse(device);
        if (!backend.equals("auto")) {
            return Lstm.create(config, weights, Backend.parse(backend), dev);
        }
        try {
            return Lstm.create(config, weights, Backend.NATIVE, dev);
        } catch (IllegalStateException e) {
            if (!dev.isCpu()) {
                throw e;
            }
            return Lstm.create(config, weights, Backend.JAVA, dev);
        }
    }
}
