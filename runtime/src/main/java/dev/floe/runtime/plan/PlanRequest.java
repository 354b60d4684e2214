package dev.floe.runtime.plan;

import dev.floe.api.DType;
import dev.floe.api.InvalidRequestException;

/**
 * What to plan for.
 *
 * @param devices  the devices
 * @param weights  how the weights are held
 * @param tp       tensor-parallel ranks, or 0 to let the planner choose
 * @param ep       expert-parallel ranks, or 0 to let the planner choose
 * @param context  tokens of KV cache per sequence, or 0 for the model's trained context
 * @param batch    sequences held in the KV cache at once
 * @param kvDtype  the KV cache element type (Floe's caches hold F32 today)
 * @param rows     token rows of one forward pass (the serving token budget)
 * @param reserve  fraction of each device's memory kept back for the runtime (driver context, communicator
 *                 buffers, allocator slack)
 */
public record PlanRequest(DeviceSpec devices, WeightPrecision weights, int tp, int ep, int context, int batch,
                          DType kvDtype, int rows, double reserve) {
    public PlanRequest {
        if (tp < 0) throw new InvalidRequestException("--tp must be positive, got " + tp);
        if (ep < 0) throw new InvalidRequestException("--ep must be positive, got " + ep);
        if (context < 0) throw new InvalidRequestException("--context must be positive, got " + context);
        if (batch < 1) throw new InvalidRequestException("--batch must be positive, got " + batch);
        if (rows < 1) throw new InvalidRequestException("rows per pass must be positive, got " + rows);
        if (!(reserve >= 0 && reserve < 1)) throw new InvalidRequestException("--reserve must be in [0, 1), got " + reserve);
        if (kvDtype == null || !kvDtype.isFloat()) throw new InvalidRequestException("--kv-dtype must be a float type, got " + kvDtype);
    }

    /** Device memory left after the reserve. */
    public long usableBytes() {
        return (long) (devices.bytesEach() * (1 - reserve));
    }
}
