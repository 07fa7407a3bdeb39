package dev.lstm4j.integrations;

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
 * The bytes of a weights file ({@code .pt} or {@code .safetensors}) as the job's client read them, with
 * their SHA-256: what is shipped to the workers (a Spark broadcast, a Flink function's field), which
 * build their models from it.
 */
public final class WeightsPayload implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String param;
    private final String source;
    private final byte[] bytes;
    private final String sha256;

    /**
     * @param param  the name the user gave the weights under ({@code weightsPath}, {@code weights}): messages start with it
     * @param source where the bytes came from (for messages)
     * @param bytes  the file's bytes, kept as given (not copied)
     */
    public WeightsPayload(String param, String source, byte[] bytes) {
        this.param = param;
        this.source = source;
        this.bytes = bytes;
        this.sha256 = sha256(bytes);
    }

    /** Where the bytes came from (for messages). */
    public String source() {
        return source;
    }

    /** Hex SHA-256 of the bytes: the identity of the weights in the workers' {@link ModelCache}. */
    public String sha256() {
        return sha256;
    }

    /** The number of bytes. */
    public int size() {
        return bytes.length;
    }

    /**
     * The state dict the bytes hold, under {@code prefix}, in {@code dtype}.
     *
     * @throws IllegalArgumentException if the file is malformed or the prefix selects nothing (naming the source)
     */
    public StateDict stateDict(String prefix, DType dtype) {
        // StateDict reads files: the bytes go through a private temporary file, deleted at once.
        Path tmp = null;
        try {
            tmp = Files.createTempFile("lstm4j-weights-", ".bin");
            Files.write(tmp, bytes);
            return StateDict.load(tmp).withPrefix(prefix).withDtype(dtype);
        } catch (IOException e) {
            throw new IllegalArgumentException(param + " '" + source + "': " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(param + " '" + source + "': " + e.getMessage(), e);
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
