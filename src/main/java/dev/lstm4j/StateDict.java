package dev.lstm4j;

import dev.lstm4j.io.Safetensors;
import dev.lstm4j.io.TorchCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Named parameter tensors, as PyTorch's {@code module.state_dict()} holds them
 * ({@code weight_ih_l0}, {@code bias_hh_l1_reverse}, {@code weight_hr_l0}, ...). Immutable.
 */
public final class StateDict {
    private final Map<String, Tensor> tensors;

    private StateDict(Map<String, Tensor> tensors) {
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** A state dict holding {@code tensors} (the map is copied; the tensors are not). */
    public static StateDict of(Map<String, Tensor> tensors) {
        Objects.requireNonNull(tensors, "tensors");
        tensors.forEach((k, v) -> Objects.requireNonNull(v, () -> "tensor '" + k + "' is null"));
        return new StateDict(tensors);
    }

    /**
     * Loads a state_dict file: {@code .safetensors} (as written by
     * {@code safetensors.torch.save_file(lstm.state_dict(), path)}) or a PyTorch checkpoint
     * ({@code torch.save(model.state_dict(), path)}, the zip format), told apart by their first bytes.
     * A {@code .pt} file is read in Java by an unpickler that admits only what a state_dict holds
     * (see {@link TorchCheckpoint}); float16 and bfloat16 tensors become float32.
     *
     * @throws dev.lstm4j.io.InvalidFileException naming the file and what is wrong with it
     */
    public static StateDict load(Path file) throws IOException {
        byte[] head;
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
            head = in.readNBytes(4);
        }
        if (TorchCheckpoint.isZip(head)) {
            return new StateDict(TorchCheckpoint.read(file));
        }
        return new StateDict(Safetensors.read(file).tensors());
    }

    /**
     * The tensors whose names start with {@code prefix}, with the prefix removed: the LSTM inside a
     * larger model ({@code encoder.rnn.weight_ih_l0} under prefix {@code encoder.rnn.}).
     *
     * @throws IllegalArgumentException if no tensor has the prefix (the message lists the prefixes present)
     */
    public StateDict withPrefix(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        if (prefix.isEmpty()) {
            return this;
        }
        Map<String, Tensor> selected = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                selected.put(k.substring(prefix.length()), v);
            }
        });
        if (selected.isEmpty()) {
            Set<String> prefixes = new TreeSet<>();
            for (String k : tensors.keySet()) {
                prefixes.add(k.contains(".") ? k.substring(0, k.lastIndexOf('.') + 1) : "(none)");
            }
            throw new IllegalArgumentException("prefix: no tensor name starts with '" + prefix + "'; prefixes present: "
                    + prefixes);
        }
        return new StateDict(selected);
    }

    /** This state dict with every tensor converted to {@code dtype} (itself if they all are already). */
    public StateDict withDtype(DType dtype) {
        Objects.requireNonNull(dtype, "dtype");
        if (tensors.values().stream().allMatch(t -> t.dtype() == dtype)) {
            return this;
        }
        Map<String, Tensor> converted = new LinkedHashMap<>();
        tensors.forEach((k, v) -> converted.put(k, v.to(dtype)));
        return new StateDict(converted);
    }

    /** Up to 8 names with shapes, for messages. */
    static String describeNames(StateDict weights) {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        for (Map.Entry<String, Tensor> e : weights.tensors.entrySet()) {
            if (n++ == 8) {
                sb.append(", ... (").append(weights.tensors.size()).append(" tensors)");
                break;
            }
            sb.append(n == 1 ? "" : ", ").append(e.getKey()).append(' ').append(Arrays.toString(e.getValue().shape()));
        }
        return n == 0 ? "no tensors" : sb.toString();
    }

    /** The tensor named {@code name}, or {@code null}. */
    public Tensor get(String name) {
        return tensors.get(name);
    }

    /** All tensors by name, in insertion order. */
    public Map<String, Tensor> asMap() {
        return tensors;
    }

    /**
     * Checks that this dict holds exactly the parameters {@code expected} (name to shape) in {@code dtype},
     * and reports every missing, unexpected and mis-shaped tensor in one exception.
     */
    void checkMatches(Map<String, int[]> expected, DType dtype, String module) {
        Set<String> missing = new TreeSet<>();
        Set<String> unexpected = new TreeSet<>(tensors.keySet());
        StringBuilder wrong = new StringBuilder();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            unexpected.remove(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                wrong.append("; ").append(e.getKey()).append(": expected shape ").append(Arrays.toString(e.getValue()))
                        .append(", got ").append(Arrays.toString(t.shape()));
            } else if (t.dtype() != dtype) {
                wrong.append("; ").append(e.getKey()).append(": expected ").append(dtype).append(", got ")
                        .append(t.dtype());
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || wrong.length() > 0) {
            StringBuilder msg = new StringBuilder("weights do not fit ").append(module);
            if (!missing.isEmpty()) {
                msg.append("; missing: ").append(String.join(", ", missing));
            }
            if (!unexpected.isEmpty()) {
                msg.append("; unexpected: ").append(String.join(", ", unexpected));
            }
            msg.append(wrong);
            throw new IllegalArgumentException(msg.toString());
        }
    }

    @Override
    public String toString() {
        return "StateDict" + tensors.keySet();
    }
}
