package dev.lstm4j;

import dev.lstm4j.io.Safetensors;
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
     * Loads every float32/float64 tensor of a {@code .safetensors} file, as written by
     * {@code safetensors.torch.save_file(lstm.state_dict(), path)}.
     */
    public static StateDict load(Path safetensorsFile) throws IOException {
        return new StateDict(Safetensors.read(safetensorsFile).tensors());
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
