package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Shapes are checked without overflow, and negative sizes name their dimension (issue 13 item 13). */
class TensorTest {
    private static void assertRefused(String fragment, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void aShapeWhoseProductWrapsIsRefused() {
        // 2^30 * 2^30 * 16 = 2^64: the product wraps to 0 in a long and matched an empty array.
        assertRefused("data: shape [1073741824, 1073741824, 16] needs more than 2147483647 elements, got 0",
                () -> Tensor.of(new float[0], 1 << 30, 1 << 30, 16));
        assertRefused("needs more than 2147483647 elements, got 0",
                () -> Tensor.of(new double[0], 1 << 16, 1 << 16, 1 << 16, 1 << 16));
        assertRefused("more than a Java array holds", () -> Tensor.zeros(DType.FLOAT32, 1 << 30, 1 << 30, 16));
        assertRefused("more than a Java array holds", () -> Tensor.zeros(DType.FLOAT64, 1 << 16, 1 << 15));
        assertRefused("needs 6 elements, got 5", () -> Tensor.of(new float[5], 2, 3));
    }

    @Test
    void aNegativeSizeNamesItsDimension() {
        assertRefused("shape: dimension 0 has negative size -1 in [-1]", () -> Tensor.zeros(DType.FLOAT32, -1));
        assertRefused("shape: dimension 2 has negative size -4 in [2, 3, -4]",
                () -> Tensor.zeros(DType.FLOAT64, 2, 3, -4));
        // Two negatives whose product is positive and matches the data.
        assertRefused("shape: dimension 0 has negative size -2", () -> Tensor.of(new float[6], -2, -3));
    }

    @Test
    void validShapesStillWork() {
        assertEquals(0, Tensor.zeros(DType.FLOAT32, 1 << 30, 1 << 30, 0).numel(), "a zero size after huge ones");
        assertArrayEquals(new int[] {2, 0, 3}, Tensor.of(new float[0], 2, 0, 3).shape());
        assertEquals(1, Tensor.of(new double[] {4}).numel(), "a scalar");
        assertEquals(24, Tensor.zeros(DType.FLOAT64, 2, 3, 4).numel());
    }
}
