package dev.lstm4j.tools.cli;

import dev.lstm4j.io.InvalidFileException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** File checks and the all-or-nothing write of the commands. */
final class CliFiles {
    private CliFiles() {
    }

    /** A file the commands read: {@code file} itself, or an exception naming it and what is wrong. */
    static Path readable(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString());
        }
        if (Files.isDirectory(file)) {
            throw new InvalidFileException(file, "is a directory, expected a file");
        }
        return file;
    }

    /** Whether {@code a} and {@code b} name the same file (through links, relative paths, hard links). */
    static boolean sameFile(Path a, Path b) throws IOException {
        return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    }

    /** Writes a file's content to a path it is given. */
    @FunctionalInterface
    interface Writer {
        void write(Path file) throws IOException;
    }

    /**
     * Writes {@code target} all or nothing: {@code writer} writes a temporary file in the same folder,
     * which then replaces {@code target} in one rename. If anything fails, the temporary file is removed
     * and {@code target} is as it was. A link as {@code target} is followed: its file is replaced.
     */
    static void writeAtomically(Path target, Writer writer) throws IOException {
        Path real = Files.exists(target) ? target.toRealPath() : target.toAbsolutePath();
        if (Files.isDirectory(real)) {
            throw new InvalidFileException(target, "is a directory, expected a file");
        }
        Path dir = real.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(String.valueOf(dir), null, "the folder of " + target + " does not exist");
        }
        Path tmp = Files.createTempFile(dir, "." + real.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            writer.write(tmp);
            try {
                Files.move(tmp, real, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, real, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException | UncheckedIOException e) {
                    // the write's own failure is the one to report
                }
            }
        }
    }
}
