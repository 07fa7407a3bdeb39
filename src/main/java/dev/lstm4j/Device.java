package dev.lstm4j;

/** Where a model's weights live and its forward passes run: {@code cpu} or {@code cuda:N}. */
public final class Device {
    /** Kind of device. */
    public enum Type {
        /** The host CPU. */
        CPU,
        /** An NVIDIA GPU through LibTorch's CUDA build. */
        CUDA
    }

    private static final Device CPU = new Device(Type.CPU, 0);

    private final Type type;
    private final int index;

    private Device(Type type, int index) {
        this.type = type;
        this.index = index;
    }

    /** The CPU. */
    public static Device cpu() {
        return CPU;
    }

    /** CUDA device {@code index} ({@code cuda:index}). */
    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("device index: expected >= 0, got " + index);
        }
        return new Device(Type.CUDA, index);
    }

    /** Parses PyTorch's spelling: {@code cpu}, {@code cuda}, {@code cuda:1}. */
    public static Device parse(String spec) {
        if (spec.equals("cpu")) {
            return CPU;
        }
        if (spec.equals("cuda")) {
            return cuda(0);
        }
        if (spec.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(spec.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("device: expected cpu, cuda or cuda:N, got '" + spec + "'");
    }

    /** The kind of device. */
    public Type type() {
        return type;
    }

    /** The device index (0 for the CPU). */
    public int index() {
        return index;
    }

    /** Whether this is the CPU. */
    public boolean isCpu() {
        return type == Type.CPU;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device && ((Device) o).type == type && ((Device) o).index == index;
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + index;
    }

    @Override
    public String toString() {
        return type == Type.CPU ? "cpu" : "cuda:" + index;
    }
}
