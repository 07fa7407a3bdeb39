package dev.lstm4j.tools.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.io.Safetensors;
import dev.lstm4j.tools.golden.GoldenCase;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lstm4j run}: an output file that is an input is refused before any work, and the output is
 * written all or nothing (issue 13 item 6).
 */
class RunCommandTest {
    private static final String CASE = "proj_bilstm_l2_b4_t10_i8_h16_p6_hx";

    @TempDir
    Path dir;

    private Path weights;
    private Path input;
    private byte[] weightsBytes;
    private byte[] inputBytes;

    @BeforeEach
    void files() throws Exception {
        weights = dir.resolve("model.pt");
        Files.copy(CliSupport.checkpointDir().resolve(CASE + ".pt"), weights);
        GoldenCase c = GoldenCase.load(CliSupport.goldenDir().resolve(CASE + ".safetensors"));
        input = dir.resolve("in.safetensors");
        Map<String, Object> inputs = new LinkedHashMap<>();
        inputs.put("input", c.tensor("input"));
        inputs.put("h0", c.tensor("h0"));
        inputs.put("c0", c.tensor("c0"));
        Safetensors.write(input, inputs, Map.of());
        weightsBytes = Files.readAllBytes(weights);
        inputBytes = Files.readAllBytes(input);
    }

    private CliSupport.CliRun run(Path out) {
        return CliSupport.run("run", "--weights", weights.toString(), "--input", input.toString(), "--batch-first",
                "--backend", "java", "--out", out.toString());
    }

    private void assertInputsUntouched(CliSupport.CliRun r) throws IOException {
        assertArrayEquals(weightsBytes, Files.readAllBytes(weights), "--weights was overwritten: " + r);
        assertArrayEquals(inputBytes, Files.readAllBytes(input), "--input was overwritten: " + r);
        assertFalse(r.err().contains("\tat "), "a stack trace for a user error: " + r.err());
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> left = s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
            assertEquals(List.of(), left, "temporary files left behind");
        }
    }

    @Test
    void outEqualToWeightsOrInputIsRefused() throws Exception {
        for (Path same : new Path[] {weights, input}) {
            CliSupport.CliRun r = run(same);
            assertEquals(Main.BAD_INPUT, r.code(), r.toString());
            assertTrue(r.err().contains("is the same file as " + (same == weights ? "--weights" : "--input")), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertInputsUntouched(r);
        }
    }

    @Test
    void outNamingAnInputThroughALinkOrARelativePathIsRefused() throws Exception {
        Path link = dir.resolve("link.safetensors");
        Files.createSymbolicLink(link, weights);
        Path hard = dir.resolve("hard.safetensors");
        Files.createLink(hard, input);
        Files.createDirectories(dir.resolve("sub"));
        Path dotted = dir.resolve("sub").resolve("..").resolve("in.safetensors");
        Path relative = Path.of("").toAbsolutePath().relativize(input);
        for (Path same : new Path[] {link, hard, dotted, relative}) {
            CliSupport.CliRun r = run(same);
            assertEquals(Main.BAD_INPUT, r.code(), same + ": " + r);
            assertTrue(r.err().contains("is the same file as"), r.err());
            assertInputsUntouched(r);
        }
    }

    @Test
    void aFailedRunLeavesAnExistingOutputAsItWas() throws Exception {
        Path out = dir.resolve("out.safetensors");
        byte[] before = "an earlier result".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Files.write(out, before);
        // input_size 8 expected: this input has 3
        Safetensors.write(input, Map.of("input", dev.lstm4j.Tensor.zeros(dev.lstm4j.DType.FLOAT32, 4, 10, 3)),
                Map.of());
        inputBytes = Files.readAllBytes(input);
        CliSupport.CliRun r = run(out);
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertTrue(r.err().contains("input_size"), r.err());
        assertArrayEquals(before, Files.readAllBytes(out));
        assertInputsUntouched(r);
    }

    @Test
    void aSuccessfulRunReplacesTheOutputAndLeavesNoTemporaryFile() throws Exception {
        Path out = dir.resolve("out.safetensors");
        Files.writeString(out, "an earlier result");
        CliSupport.CliRun r = run(out);
        assertEquals(Main.OK, r.code(), r.toString());
        GoldenCase c = GoldenCase.load(CliSupport.goldenDir().resolve(CASE + ".safetensors"));
        Safetensors.Contents got = Safetensors.read(out);
        for (String k : new String[] {"output", "h_n", "c_n"}) {
            double err = got.tensors().get(k).maxAbsDiff(c.tensor(k));
            assertTrue(err <= c.tolerance(), k + ": " + err);
        }
        assertInputsUntouched(r);
    }

    @Test
    void directoriesAreNamedAsSuch() throws Exception {
        CliSupport.CliRun r = run(dir);
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertTrue(r.err().contains(dir + ": is a directory, expected a file"), r.err());
        r = CliSupport.run("run", "--weights", dir.toString(), "--input", input.toString(), "--out",
                dir.resolve("o.safetensors").toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.toString());
        assertTrue(r.err().contains(dir + ": is a directory, expected a file"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    /** The writer behind --out: a write that fails half-way leaves the old file and no temporary file. */
    @Test
    void atomicWriteKeepsTheOldFileWhenTheWriterFails() throws Exception {
        Path target = dir.resolve("result.bin");
        Files.writeString(target, "old");
        IOException e = assertThrows(IOException.class, () -> CliFiles.writeAtomically(target, tmp -> {
            try (OutputStream o = Files.newOutputStream(tmp)) {
                o.write(new byte[4096]);
                throw new IOException("disk full, say");
            }
        }));
        assertEquals("disk full, say", e.getMessage());
        assertEquals("old", Files.readString(target));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("result.bin"), s.filter(p -> p.getFileName().toString().contains("result"))
                    .map(p -> p.getFileName().toString()).toList());
        }
        CliFiles.writeAtomically(target, tmp -> Files.writeString(tmp, "new"));
        assertEquals("new", Files.readString(target));
    }
}
