package dev.lstm4j.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Both float GEMM kernels, called as the engine calls them (by column ranges), against a
 * double-precision loop, on sizes with every kind of remainder and stride; and the float64 kernel.
 */
class GemmTest {
    @ParameterizedTest(name = "rows={0} k={1} n={2} block={3} bias={4}")
    @CsvSource({"1,1,1,1,true", "3,5,7,7,false", "4,16,32,8,true", "5,17,33,33,true", "9,64,100,25,false",
            "130,40,96,48,true", "64,256,1024,256,true", "1,256,1024,256,false", "2,256,1024,1024,false",
            "7,64,256,64,false", "300,33,520,130,true", "1,40,200,50,false", "3,24,120,20,true"})
    void kernelsMatchReference(int rows, int k, int n, int block, boolean withBias) {
        Random rnd = new Random(rows * 31L + k * 7L + n);
        int xStride = k + 3;
        int outStride = n + 5;
        float[] x = new float[2 + rows * xStride];
        float[] w = new float[n * k];
        float[] bias = withBias ? new float[n] : null;
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = rnd.nextFloat() * 2 - 1;
        }
        if (bias != null) {
            for (int i = 0; i < n; i++) {
                bias[i] = rnd.nextFloat();
            }
        }
        float[] wt = new float[(int) Panels.size(k, n, block)];
        FloatArith.INSTANCE.packTransposed(w, n, k, block, wt, 0);
        SgemmKernel[] kernels = {SgemmKernel.scalar(), SgemmKernel.best()};
        for (SgemmKernel kernel : kernels) {
            float[] out = new float[1 + rows * outStride];
            kernel.sgemmColumns(x, 2, xStride, rows, k, wt, block, n, 0, n, bias, out, 1, outStride);
            double worst = 0;
            for (int m = 0; m < rows; m++) {
                for (int j = 0; j < n; j++) {
                    double s = bias == null ? 0 : bias[j];
                    for (int kk = 0; kk < k; kk++) {
                        s += (double) x[2 + m * xStride + kk] * w[j * k + kk];
                    }
                    worst = Math.max(worst, Math.abs(s - out[1 + m * outStride + j]));
                }
            }
            assertTrue(worst < 1e-4, kernel + ": max abs err " + worst);
            assertEquals(0f, out[0], "wrote before the output offset");
            {
                // A team part computes a column range on its own: same bits as the whole product,
                // whether the split falls on a panel boundary or inside a panel.
                float[] parts = new float[1 + rows * outStride];
                int mid = withBias ? n / 3 : n / 2 / 16 * 16;
                kernel.sgemmColumns(x, 2, xStride, rows, k, wt, block, n, mid, n, bias, parts, 1, outStride);
                kernel.sgemmColumns(x, 2, xStride, rows, k, wt, block, n, 0, mid, bias, parts, 1, outStride);
                for (int m = 0; m < rows; m++) {
                    for (int j = 0; j < n; j++) {
                        assertEquals(out[1 + m * outStride + j], parts[1 + m * outStride + j], "row " + m + " col " + j);
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void vectorKernelIsUsedWhenTheModuleIsPresent() {
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        SgemmKernel best = SgemmKernel.best();
        assertEquals(module, best instanceof VectorGemm, "module present: " + module + ", kernel: " + best);
    }

    @ParameterizedTest(name = "rows={0} k={1} n={2} block={3}")
    @CsvSource({"1,1,1,1", "3,5,7,7", "5,17,33,33", "9,64,100,25", "2,40,96,48"})
    void doubleKernelMatchesReference(int rows, int k, int n, int block) {
        Random rnd = new Random(rows * 131L + k * 17L + n);
        double[] x = new double[rows * k];
        double[] w = new double[n * k];
        double[] bias = new double[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextDouble() * 2 - 1;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = rnd.nextDouble() * 2 - 1;
        }
        for (int i = 0; i < n; i++) {
            bias[i] = rnd.nextDouble();
        }
        double[] wt = new double[(int) Panels.size(k, n, block)];
        DoubleArith.INSTANCE.packTransposed(w, n, k, block, wt, 0);
        double[] out = new double[rows * n];
        int mid = n / 2;
        DoubleArith.INSTANCE.linearColumns(x, 0, k, rows, k, wt, block, n, mid, n, bias, out, 0, n);
        DoubleArith.INSTANCE.linearColumns(x, 0, k, rows, k, wt, block, n, 0, mid, bias, out, 0, n);
        for (int m = 0; m < rows; m++) {
            for (int j = 0; j < n; j++) {
                double s = bias[j];
                for (int kk = 0; kk < k; kk++) {
                    s += x[m * k + kk] * w[j * k + kk];
                }
                assertEquals(s, out[m * n + j], 1e-12, "row " + m + " col " + j);
            }
        }
    }
}
