package dev.lstm4j.tools.cli;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lstm4j inspect MODEL [--prefix P]}: the tensors of a checkpoint and the LSTM configuration they
 * imply. Exit 0 on success (also when the tensors hold no LSTM: the line says why), 2 when the file
 * cannot be read or no tensor starts with {@code P} (the message lists the prefixes there are).
 */
@Command(name = "inspect", description = {"The tensors of a state_dict and the LSTM configuration they imply.",
    "MODEL is a .pt or .safetensors file. Exit 2 if it cannot be read or no tensor starts with the prefix (the "
        + "message lists the prefixes there are)."})
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "a .pt or .safetensors file")
    Path model;

    @Option(names = "--prefix", paramLabel = "P", description = "the LSTM's prefix in a larger model, e.g. encoder.")
    String prefix = "";

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        StateDict all = StateDict.load(CliFiles.readable(model));
        StateDict w;
        try {
            w = all.withPrefix(prefix);
        } catch (IllegalArgumentException e) {
            // names the prefix and the prefixes the file has
            throw new IllegalArgumentException(model + ": " + e.getMessage(), e);
        }
        out.printf("%s: %d tensors%n", model, all.asMap().size());
        all.asMap().forEach((k, v) -> out.printf("  %-40s %-8s %s%n", k, v.dtype(), Arrays.toString(v.shape())));
        try {
            LstmConfig config = LstmConfig.inferFrom(w).build();
            out.println("inferred: " + config + " (batch_first is not recorded in a state_dict)");
        } catch (IllegalArgumentException e) {
            out.println("inferred: no LSTM (" + e.getMessage() + ")");
        }
        return Main.OK;
    }
}
