package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.Probe;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Opens the backend for a test, or skips the test with the probe's reason when OpenCL is absent. */
final class OpenClTestSupport {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private OpenClTestSupport() {
    }

    /** The backend for a test class (from {@code @BeforeAll}), or null when OpenCL is unavailable. */
    static Backend openIfAvailable() {
        OpenClProvider provider = new OpenClProvider();
        return provider.probe().available() ? provider.open(BackendOptions.DEFAULTS) : null;
    }

    /** Per test (from {@code @BeforeEach}): skips it, with the probe's reason, when the class has no backend. */
    static void assumeOpened(Backend backend) {
        assumeTrue(backend != null, () -> "OpenCL unavailable: " + new OpenClProvider().probe().detail());
    }

    static float[] random(Random rnd, int n, double range) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) * range);
        return a;
    }

    /** A tensor of {@code dtype} holding {@code values} rounded to that dtype (FP8 saturating), on the heap. */
    static TensorData tensor(String name, DType dtype, long[] shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * dtype.bytes()]);
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32, i, v);
                case F16 -> seg.setAtIndex(I16, i, FloatFormats.floatToF16(v));
                case BF16 -> seg.setAtIndex(I16, i, FloatFormats.floatToBf16(v));
                case F8_E4M3 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE4m3(v, true));
                case F8_E5M2 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE5m2(v, true));
                default -> throw new IllegalArgumentException(dtype.toString());
            }
        }
        return new TensorData(name, dtype, shape, seg, null);
    }

    /** The same values in native (off-heap) memory, as a memory-mapped checkpoint would hand them over. */
    static TensorData offHeap(TensorData t, Arena arena) {
        MemorySegment copy = arena.allocate(t.data().byteSize(), 8);
        copy.copyFrom(t.data());
        return new TensorData(t.name(), t.dtype(), t.shape(), copy, t.scale());
    }

    static TensorData f32Scale(String name, float[] scales) {
        return tensor(name, DType.F32, new long[]{scales.length}, scales);
    }

    /** Element i of a float tensor with its row's scale, in double: the oracle's view of a weight. */
    static double value(TensorData t, long i) {
        return (double) FloatFormats.read(t, i) * FloatFormats.scale(t, i / t.cols());
    }

    static float[] download(Backend b, dev.floe.spi.Buffer buf, int n) {
        float[] out = new float[n];
        b.download(buf, 0, out, 0, n);
        return out;
    }

    static dev.floe.spi.Buffer upload(Backend b, float[] values) {
        dev.floe.spi.Buffer buf = b.allocate(values.length);
        b.upload(values, 0, buf, 0, values.length);
        return buf;
    }
}
