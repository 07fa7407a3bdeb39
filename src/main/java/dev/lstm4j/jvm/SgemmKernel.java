package dev.lstm4j.jvm;

/**
 * A float32 GEMM over {@code W^T} packed in panels ({@link Panels}), by columns: see
 * {@link Arith#linearColumns}. Two implementations: {@link Gemm#sblock} (plain Java, runs everywhere)
 * and {@code VectorGemm} (the JDK's Vector API, used when {@code jdk.incubator.vector} is present).
 */
interface SgemmKernel {
    /** Columns {@code [n0, n1)} of {@code out = x W^T (+ bias)}, on the calling thread. */
    void sgemmColumns(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n, int n0, int n1,
            float[] bias, float[] out, int outOff, int outStride);

    /**
     * The fastest kernel this JVM can run: the Vector API one when the module
     * {@code jdk.incubator.vector} is in the boot layer (run with {@code --add-modules jdk.incubator.vector}),
     * else the plain-Java one. Loaded reflectively, so nothing touches the incubator module otherwise.
     */
    static SgemmKernel best() {
        Object vector = VectorSupport.instantiate("dev.lstm4j.jvm.VectorGemm");
        return vector != null ? (SgemmKernel) vector : scalar();
    }

    /** The plain-Java kernel. */
    static SgemmKernel scalar() {
        return (x, xOff, xStride, rows, k, wt, block, n, n0, n1, bias, out, outOff, outStride) -> Gemm.sblock(x, xOff,
                xStride, 0, rows, k, wt, block, n, n0, n1, bias, out, outOff, outStride);
    }
}
