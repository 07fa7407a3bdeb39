package dev.lstm4j.spark;

import dev.lstm4j.DType;
import dev.lstm4j.StateDict;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The bytes of a weights file ({@code .pt} or {@code .safetensors}) as the driver read them, with their
 * SHA-256: what is broadcast to the executors, which build their models from it.
 */
final class WeightsPayload implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final byte[] bytes;
    private final String sha256;

    WeightsPayload(String source, byte[] bytes) {
        this.source = source;
        this.bytes = bytes;
        this.sha256 = sha256(bytes);
    }

    /** Where the bytes came from (for messages). */
    String source() {
        return source;
    }

    /** Hex SHA-256 of the bytes: the identity of the weights in the executors' model cache. */
    String sha256() {
        return sha256;
    }

    int size() {
        return bytes.length;
    }

    /**
     * The state dict the bytes hold, under {@code prefix}, in {@code dtype}.
     *
     * @throws IllegalArgumentException if the file is malformed or the prefix selects nothing (naming the source)
     */
    StateDict stateDict(String prefix, DType dtype) {
        // StateDict reads files: the bytes go through a private temporary file, deleted at once.
        Path tmp = null;
        try {
            tmp = Files.createTempFile("lstm4j-weights-", ".bin");
            Files.write(tmp, bytes);
            return StateDict.load(tmp).withPrefix(prefix).withDtype(dtype);
        } catch (IOException e) {
            throw new IllegalArgumentException("weightsPath '" + source + "': " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("weightsPath '" + source + "': " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not delete temporary weights file " + tmp, e);
                }
            }
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
