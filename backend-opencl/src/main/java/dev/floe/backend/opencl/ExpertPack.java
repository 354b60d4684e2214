package dev.floe.backend.opencl;

import static org.lwjgl.opencl.CL10.clEnqueueCopyBuffer;

/**
 * One layer's experts packed for the fused MoE kernels (moe.cl): per projection, every expert's weight bytes back to
 * back ({@code stride} bytes apart) and their float32 scales likewise, so that a kernel reads expert {@code e} by
 * index. Filled by device-to-device copies on the queue (no host stall), expert by expert as the runtime hands them
 * over; an expert is copied again when the runtime replaced its weights (evicted and placed again).
 */
final class ExpertPack {
    final ClMoe.Format format;
    final Projection w1, w2, w3;
    private final int layer;
    private final ClMoe.Expert[] held;

    /** One projection of every expert. */
    static final class Projection {
        final ClMoe.Layout layout;
        /** Bytes from one expert's weight to the next (a multiple of 16, so every element type stays aligned). */
        final long stride;
        final long data;
        final long scales;
        private final ClBuffer dataBuffer, scaleBuffer;

        Projection(OpenClBackend b, ClMoe.Layout layout, int experts, String what) {
            this.layout = layout;
            this.stride = (layout.dataBytes() + 15) / 16 * 16;
            this.dataBuffer = b.deviceBuffer(stride * experts, what + " weights of " + experts + " experts");
            try {
                this.scaleBuffer = b.deviceBuffer((long) layout.scaleCount() * experts * Float.BYTES, what + " scales");
            } catch (RuntimeException e) {
                dataBuffer.close();
                throw e;
            }
            this.data = dataBuffer.mem();
            this.scales = scaleBuffer.mem();
        }

        void copy(OpenClBackend b, int expert, ClWeight w) {
            long scaleBytes = (long) layout.scaleCount() * Float.BYTES;
            ClErrors.check(clEnqueueCopyBuffer(b.queue(), w.data(), data, 0, expert * stride, layout.dataBytes(), null, null),
                    "clEnqueueCopyBuffer(" + w.name() + " into its layer's expert bank)");
            ClErrors.check(clEnqueueCopyBuffer(b.queue(), w.scale(), scales, 0, expert * scaleBytes, scaleBytes, null, null),
                    "clEnqueueCopyBuffer(scales of " + w.name() + " into its layer's expert bank)");
        }

        void close() {
            dataBuffer.close();
            scaleBuffer.close();
        }
    }

    private final OpenClBackend b;

    ExpertPack(OpenClBackend b, int layer, int experts, ClMoe.Format format) {
        this.b = b;
        this.layer = layer;
        this.format = format;
        this.held = new ClMoe.Expert[experts];
        String what = "layer " + layer + " expert bank";
        this.w1 = new Projection(b, format.w1(), experts, what + " w1");
        Projection p3 = null, p2 = null;
        try {
            p3 = new Projection(b, format.w3(), experts, what + " w3");
            p2 = new Projection(b, format.w2(), experts, what + " w2");
        } catch (RuntimeException e) {
            w1.close();
            if (p3 != null) p3.close();
            throw e;
        }
        this.w3 = p3;
        this.w2 = p2;
    }

    int experts() {
        return held.length;
    }

    /** Makes slot {@code x} hold {@code e}'s weights, copying them unless it already does. */
    void hold(int x, ClMoe.Expert e) {
        ClMoe.Expert now = held[x];
        if (now != null && now.w1() == e.w1() && now.w2() == e.w2() && now.w3() == e.w3()) return;
        w1.copy(b, x, e.w1());
        w3.copy(b, x, e.w3());
        w2.copy(b, x, e.w2());
        held[x] = e;
    }

    void close() {
        w1.close();
        w2.close();
        w3.close();
    }

    @Override
    public String toString() {
        return "expert bank of layer " + layer + " (" + held.length + " experts)";
    }
}
