package dev.lstm4j;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense, C-contiguous float32 or float64 array with a shape: the inputs and outputs of
 * {@link Lstm} and {@link LstmCell}.
 *
 * <p>A tensor wraps its Java array without copying ({@link #of(float[], int...)}) and hands it
 * back without copying ({@link #floatData()}), so that large inputs and outputs cross the API
 * for free. Treat a tensor passed to a forward call as read-only for the duration of the call.
 */
public final class Tensor {
    /** The most elements a Java array is sure to hold (HotSpot refuses the last few below 2^31). */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    /** Element counts saturate here: more than any array holds, and no product of two can overflow. */
    private static final long SATURATED = 1L << 31;

    private final int[] shape;
    private final DType dtype;
    private final float[] floats;
    private final double[] doubles;

    private Tensor(int[] shape, DType dtype, float[] floats, double[] doubles) {
        this.shape = shape;
        this.dtype = dtype;
        this.floats = floats;
        this.doubles = doubles;
    }

    /** Wraps {@code data} (no copy) as a float32 tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        Objects.requireNonNull(data, "data");
        int[] s = checkedShape(shape, data.length);
        return new Tensor(s, DType.FLOAT32, data, null);
    }

    /** Wraps {@code data} (no copy) as a float64 tensor of the given shape. */
    public static Tensor of(double[] data, int... shape) {
        Objects.requireNonNull(data, "data");
        int[] s = checkedShape(shape, data.length);
        return new Tensor(s, DType.FLOAT64, null, data);
    }

    /**
     * A new tensor of zeros.
     *
     * @throws IllegalArgumentException if a size is negative or the shape has more elements than a
     *                                  Java array holds
     */
    public static Tensor zeros(DType dtype, int... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long n = numel(checkedSizes(shape));
        if (n > MAX_ELEMENTS) {
            throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " has " + describeCount(n)
                    + " elements, more than a Java array holds (" + MAX_ELEMENTS + ")");
        }
        return dtype == DType.FLOAT32 ? of(new float[(int) n], shape) : of(new double[(int) n], shape);
    }

    private static int[] checkedShape(int[] shape, int length) {
        long n = numel(checkedSizes(shape));
        if (n != length) {
            throw new IllegalArgumentException("data: shape " + Arrays.toString(shape) + " needs " + describeCount(n)
                    + " elements, got " + length);
        }
        return shape.clone();
    }

    private static int[] checkedSizes(int[] shape) {
        Objects.requireNonNull(shape, "shape");
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw new IllegalArgumentException("shape: dimension " + d + " has negative size " + shape[d]
                        + " in " + Arrays.toString(shape));
            }
        }
        return shape;
    }

    /**
     * The product of the sizes, saturated at 2^31 (more than any array holds) so that it cannot wrap:
     * [2^30, 2^30, 16] must not come out as 0. A zero size anywhere still gives 0.
     */
    private static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = Math.min(n * d, SATURATED);
        }
        return n;
    }

    private static String describeCount(long n) {
        return n >= SATURATED ? "more than " + Integer.MAX_VALUE : Long.toString(n);
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int dim() {
        return shape.length;
    }

    /** Size of dimension {@code d} (negative counts from the end, as in PyTorch). */
    public int size(int d) {
        return shape[d < 0 ? shape.length + d : d];
    }

    /** Number of elements. */
    public int numel() {
        return dtype == DType.FLOAT32 ? floats.length : doubles.length;
    }

    /**
     * The backing float32 array, not a copy.
     *
     * @throws IllegalStateException if this tensor is float64
     */
    public float[] floatData() {
        if (floats == null) {
            throw new IllegalStateException("tensor is float64; use doubleData()");
        }
        return floats;
    }

    /**
     * The backing float64 array, not a copy.
     *
     * @throws IllegalStateException if this tensor is float32
     */
    public double[] doubleData() {
        if (doubles == null) {
            throw new IllegalStateException("tensor is float32; use floatData()");
        }
        return doubles;
    }

    /** Element {@code i} of the flat data, widened to double. */
    public double getDouble(int i) {
        return floats != null ? floats[i] : doubles[i];
    }

    /** A copy of the data as float64, whatever the dtype. */
    public double[] toDoubleArray() {
        if (doubles != null) {
            return doubles.clone();
        }
        double[] out = new double[floats.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = floats[i];
        }
        return out;
    }

    /** A copy of this tensor converted to {@code target} (a plain copy if it already is). */
    public Tensor to(DType target) {
        if (target == DType.FLOAT64) {
            return new Tensor(shape.clone(), target, null, toDoubleArray());
        }
        float[] out = new float[numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) getDouble(i);
        }
        return new Tensor(shape.clone(), target, out, null);
    }

    /** The same data under another shape with as many elements (no copy), like {@code view}. */
    public Tensor reshape(int... newShape) {
        int[] s = checkedShape(newShape, numel());
        return new Tensor(s, dtype, floats, doubles);
    }

    /** Largest absolute element-wise difference to {@code other} (NaN if any difference is NaN). */
    public double maxAbsDiff(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("other: expected shape " + Arrays.toString(shape) + ", got "
                    + Arrays.toString(other.shape));
        }
        double worst = 0;
        for (int i = 0, n = numel(); i < n; i++) {
            double d = Math.abs(getDouble(i) - other.getDouble(i));
            if (!(d <= worst)) {
                worst = d;
            }
        }
        return worst;
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + ", " + Arrays.toString(shape) + ")";
    }
}
