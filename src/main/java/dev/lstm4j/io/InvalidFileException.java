package dev.lstm4j.io;

import java.io.IOException;
import java.nio.file.Path;

/** A model or case file that is truncated, malformed or unsupported; the message names the file and the problem. */
public final class InvalidFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** Creates the exception for {@code file} with a description of the problem. */
    public InvalidFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
