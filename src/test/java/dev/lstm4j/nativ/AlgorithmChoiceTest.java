package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Device;
import dev.lstm4j.Precision;
import dev.lstm4j.nativ.binding.NativeCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which native algorithm a model asks for: cuDNN for the precisions whose numerics are PyTorch's own
 * on a GPU (pytorch, bfloat16, float16), unless the device scan is asked for to compare them; full
 * precision keeps the scan; cudnn cannot be chosen through the CPU-algorithm property.
 */
class AlgorithmChoiceTest {
    private static final String PROPERTY = "lstm4j.native.cpuAlgorithm";

    @AfterEach
    void clearProperty() {
        System.clearProperty(PROPERTY);
    }

    @Test
    void cudnnForPyTorchAndSixteenBitPrecisionsOnCuda() {
        for (Precision p : new Precision[] {Precision.PYTORCH, Precision.BFLOAT16, Precision.FLOAT16}) {
            assertEquals(NativeCodes.Algorithm.CUDNN, NativeEngineProvider.algorithm(p, Device.cuda(0)), p.toString());
        }
        assertEquals(NativeCodes.Algorithm.AUTO, NativeEngineProvider.algorithm(Precision.FULL, Device.cuda(0)));
        assertEquals(NativeCodes.Algorithm.AUTO, NativeEngineProvider.algorithm(Precision.FULL, Device.cpu()));
    }

    @Test
    void deviceScanWhenAskedFor() {
        System.setProperty(PROPERTY, "device");
        assertEquals(NativeCodes.Algorithm.DEVICE, NativeEngineProvider.algorithm(Precision.BFLOAT16, Device.cuda(0)));
    }

    @Test
    void cudnnIsNotACpuAlgorithm() {
        System.setProperty(PROPERTY, "cudnn");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, NativeEngineProvider::cpuAlgorithm);
        assertTrue(e.getMessage().contains("got 'cudnn'"), e.getMessage());
    }

    @Test
    void pytorchPrecisionParses() {
        assertEquals(Precision.PYTORCH, Precision.fromName("pytorch"));
    }
}
