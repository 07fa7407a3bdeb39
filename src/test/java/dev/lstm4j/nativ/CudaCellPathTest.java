package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.nativ.binding.NativeLstm;
import org.junit.jupiter.api.Test;

/**
 * The binding of {@code Lstm::cuda_cell_path}, which {@code ./lstm4j verify --device cuda:N} prints:
 * without CUDA it carries the reason CUDA is unavailable; with CUDA it names the cell that runs.
 */
class CudaCellPathTest {
    @Test
    void namesTheCellOrWhyCudaIsUnavailable() {
        String path = NativeLstm.cuda_cell_path(0);
        if (Backend.NATIVE.cudaDeviceCount() == 0) {
            assertEquals("unavailable: " + Backend.NATIVE.cudaUnavailableReason(), path);
            assertTrue(path.startsWith("unavailable: CUDA is not available: "), path);
        } else {
            assertTrue(path.startsWith("kernel: ") || path.startsWith("libtorch: "), path);
        }
    }
}
