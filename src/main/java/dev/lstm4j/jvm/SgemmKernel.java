package dev.lstm4j.jvm;

/**
 * A float32 GEMM {@code out = x W^T (+ bias)} over {@code W^T} packed in panels ({@link Panels});
 * see {@link Arith#linear}. Two implementations: {@link Gemm} (plain Java, runs everywhere) and
 * {@code VectorGemm} (the JDK's Vector API, used when {@code jdk.incubator.vector} is present).
 */
interface SgemmKernel {
    void sgemm(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n, float[] bias, float[] out,
            int outOff, int outStride);

    /** Columns {@code [n0, n1)} of the same product, on the calling thread. */
    void sgemmColumns(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n, int n0, int n1,
            float[] bias, float[] out, int outOff, int outStride);

    /**
     * The fastest kernel this JVM can run: the Vector API one when the module
     * {@code jdk.incubator.vector} is in the boot layer (run with {@code --add-modules jdk.incubator.vector}),
     * else the plain-Java one. Loaded reflectively, so nothing touches the incubator module otherwise.
     */
    static SgemmKernel best(Gemm fallback) {
        Object vector = VectorSupport.instantiate("dev.lstm4j.jvm.VectorGemm");
        return vector != null ? (SgemmKernel) vector : scalar(fallback);
    }

    /** The plain-Java kernel. */
    static SgemmKernel scalar(Gemm fallback) {
        return new SgemmKernel() {
            @Override
            public void sgemm(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n, float[] bias,
                    float[] out, int outOff, int outStride) {
                fallback.sgemm(x, xOff, xStride, rows, k, wt, block, n, bias, out, outOff, outStride);
            }

            @Override
            public void sgemmColumns(float[] x, int xOff, int xStride, int rows, int k, float[] wt, int block, int n,
                    int n0, int n1, float[] bias, float[] out, int outOff, int outStride) {
                Gemm.sblock(x, xOff, xStride, 0, rows, k, wt, block, n, n0, n1, bias, out, outOff, outStride);
            }
        };
    }
}
