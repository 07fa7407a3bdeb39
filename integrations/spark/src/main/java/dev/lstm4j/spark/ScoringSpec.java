package dev.lstm4j.spark;

import dev.lstm4j.DType;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.StateDict;
import dev.lstm4j.integrations.Models;
import dev.lstm4j.integrations.WeightsPayload;
import java.io.Serializable;

/**
 * Everything an executor needs to score a partition, resolved on the driver from the transformer's
 * params and the input schema: plain values only, so it serializes with the task.
 */
final class ScoringSpec implements Serializable {
    private static final long serialVersionUID = 2L;

    final String prefix;
    final DType dtype;
    /** {@code auto}, {@code native}, {@code java} or {@code libtorch}. */
    final String backend;
    final String device;
    /** The most threads a forward uses; 0: the executor's default (see {@link Models#threads(int)}). */
    final int threads;
    final int batchSize;
    final String inputCol;
    final int inputIndex;
    final int lengthsIndex;
    /** 'i', 'l' or 's': the lengths column's int, long or short type; 0 without one. */
    final char lengthsType;
    final int h0Index;
    final int c0Index;
    final boolean wantOutput;
    final boolean wantHn;
    final boolean wantCn;

    ScoringSpec(String prefix, DType dtype, String backend, String device, int threads, int batchSize, String inputCol,
            int inputIndex, int lengthsIndex, char lengthsType, int h0Index, int c0Index, boolean wantOutput,
            boolean wantHn, boolean wantCn) {
        this.prefix = prefix;
        this.dtype = dtype;
        this.backend = backend;
        this.device = device;
        this.threads = threads;
        this.batchSize = batchSize;
        this.inputCol = inputCol;
        this.inputIndex = inputIndex;
        this.lengthsIndex = lengthsIndex;
        this.lengthsType = lengthsType;
        this.h0Index = h0Index;
        this.c0Index = c0Index;
        this.wantOutput = wantOutput;
        this.wantHn = wantHn;
        this.wantCn = wantCn;
    }

    /**
     * The model-cache key: same weights, same prefix, same way of running them (the thread count as
     * resolved on this executor, so "default" and the same explicit count share a model).
     */
    String cacheKey(WeightsPayload weights) {
        return weights.sha256() + '|' + prefix + '|' + dtype + '|' + backend + '|' + device + "|threads="
                + Models.threads(threads);
    }

    /**
     * Builds the model (on an executor, once per cache key). {@code auto} takes NATIVE and falls back to
     * JAVA on the CPU when NATIVE cannot load here (no JavaCPP natives for this platform, say).
     */
    Lstm buildModel(WeightsPayload weights) {
        StateDict sd = weights.stateDict(prefix, dtype);
        return Models.create(LstmConfig.inferFrom(sd).batchFirst(true).build(), sd, backend, device, threads);
    }
}
