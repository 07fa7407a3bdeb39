package dev.lstm4j;

import dev.lstm4j.tools.golden.GoldenCase;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-process main of {@link ExistingLibTorchModeTest}: runs golden cases on NATIVE, then prints
 * every mapped {@code libtorch_cpu.so} so the parent can check which LibTorch was used.
 */
public final class ExistingLibTorchProbe {
    private ExistingLibTorchProbe() {
    }

    public static void main(String[] args) throws Exception {
        for (String f : args) {
            GoldenCase c = GoldenCase.load(Path.of(f));
            double err = c.run(Backend.NATIVE, Device.cpu());
            System.out.println("case " + c.name() + " " + err + " " + (err <= c.tolerance() ? "PASS" : "FAIL"));
        }
        Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("libtorch_cpu.so"))
                .map(l -> "maps " + l.substring(l.indexOf('/'))).distinct().forEach(System.out::println);
    }
}
