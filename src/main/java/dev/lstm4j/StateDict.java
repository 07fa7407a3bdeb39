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
 *
 * <p>A loaded file may also hold entries that are not floating-point tensors (BatchNorm's int64
 * {@code num_batches_tracked}, bool masks, quantized tensors, extra state): they are kept by name and
 * description only ({@link #otherEntries()}), so that {@link #withPrefix} selects them like the rest
 * and only a model that needs one of them fails, saying which and why.
 */
public final class StateDict {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> others;

    private StateDict(Map<String, Tensor> tensors, Map<String, String> others) {
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.others = Collections.unmodifiableMap(new LinkedHashMap<>(others));
    }

    /** A state dict holding {@code tensors} (the map is copied; the tensors are not). */
    public static StateDict of(Map<String, Tensor> tensors) {
        Objects.requireNonNull(tensors, "tensors");
        tensors.forEach((k, v) -> Objects.requireNonNull(v, () -> "tensor '" + k + "' is null"));
        return new StateDict(tensors, Map.of());
    }

    /**
     * Loads a state_dict file: {@code .safetensors} (as written by
     * {@code safetensors.torch.save_file(lstm.state_dict(), path)}) or a PyTorch checkpoint
     * ({@code torch.save(model.state_dict(), path)}, the zip format), told apart by their structure
     * (a safetensors header length that fits the file followed by '{', else a zip archive).
     * A {@code .pt} file is read in Java by an unpickler that admits only what
     * {@code torch.load(weights_only=True)} admits (see {@link TorchCheckpoint}). Float16 and bfloat16
     * tensors become float32; tensors of other dtypes are listed by {@link #otherEntries()}.
     * What a hostile file can make the reader allocate is bounded by the file (docs/robustness.md).
     *
     * @throws dev.lstm4j.io.InvalidFileException naming the file and what is wrong with it
     */
    public static StateDict load(Path file) throws IOException {
        byte[] head;
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
            head = in.readNBytes(4);
        }
        if (TorchCheckpoint.isZip(head) && !Safetensors.looksLikeSafetensors(file)) {
            TorchCheckpoint.Contents c = TorchCheckpoint.read(file);
            return new StateDict(c.tensors(), c.otherEntries());
        }
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> others = new LinkedHashMap<>();
        c.int64Tensors().keySet().forEach(k -> others.put(k, "int64 " + Arrays.toString(c.int64Shape(k))));
        others.putAll(c.otherTensors());
        return new StateDict(c.tensors(), others);
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
        Map<String, String> selectedOthers = new LinkedHashMap<>();
        others.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                selectedOthers.put(k.substring(prefix.length()), v);
            }
        });
        if (selected.isEmpty() && selectedOthers.isEmpty()) {
            Set<String> prefixes = new TreeSet<>();
            for (String k : allNames()) {
                prefixes.add(k.contains(".") ? k.substring(0, k.lastIndexOf('.') + 1) : "(none)");
            }
            throw new IllegalArgumentException("prefix: no tensor name starts with '" + prefix + "'; prefixes present: "
                    + prefixes);
        }
        return new StateDict(selected, selectedOthers);
    }

    private Set<String> allNames() {
        Set<String> names = new java.util.LinkedHashSet<>(tensors.keySet());
        names.addAll(others.keySet());
        return names;
    }

    /** This state dict with every tensor converted to {@code dtype} (itself if they all are already). */
    public StateDict withDtype(DType dtype) {
        Objects.requireNonNull(dtype, "dtype");
        if (tensors.values().stream().allMatch(t -> t.dtype() == dtype)) {
            return this;
        }
        Map<String, Tensor> converted = new LinkedHashMap<>();
        tensors.forEach((k, v) -> converted.put(k, v.to(dtype)));
        return new StateDict(converted, others);
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
        for (Map.Entry<String, String> e : weights.others.entrySet()) {
            if (n++ == 8) {
                sb.append(", ... (").append(weights.tensors.size() + weights.others.size()).append(" entries)");
                break;
            }
            sb.append(n == 1 ? "" : ", ").append(e.getKey()).append(" (").append(e.getValue()).append(')');
        }
        return n == 0 ? "no tensors" : sb.toString();
    }

    /** The tensor named {@code name}, or {@code null}. */
    public Tensor get(String name) {
        return tensors.get(name);
    }

    /** All floating-point tensors by name, in insertion order. */
    public Map<String, Tensor> asMap() {
        return tensors;
    }

    /**
     * The entries of the loaded file that are not floating-point tensors, by name, with what they hold
     * ({@code "int64 []"}, {@code "bool [4, 4]"}, {@code "a quantized tensor (...)"}); empty for a state
     * dict made with {@link #of}. They are not read, only named, so that an LSTM that would need one says so.
     */
    public Map<String, String> otherEntries() {
        return others;
    }

    /**
     * Checks that this dict holds exactly the parameters {@code expected} (name to shape) in {@code dtype},
     * and reports every missing, unexpected and mis-shaped tensor in one exception.
     */
    void checkMatches(Map<String, int[]> expected, DType dtype, String module) {
        Set<String> missing = new TreeSet<>();
        Set<String> unexpected = new TreeSet<>(allNames());
        StringBuilder wrong = new StringBuilder();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            unexpected.remove(e.getKey());
            String other = others.get(e.getKey());
            if (other != null) {
                wrong.append("; ").append(e.getKey()).append(": expected ").append(dtype).append(" of shape ")
                        .append(Arrays.toString(e.getValue())).append(", got ").append(other)
                        .append(" (an LSTM takes floating-point weights: float32, float64, float16 or bfloat16)");
            } else if (t == null) {
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
