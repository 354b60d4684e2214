package dev.floe.runtime.checkpoint;

import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.spi.TensorSource;

import java.util.Arrays;

/** The check every tensor the layer graph needs goes through: present, of a float dtype, and of the configured shape. */
public final class RequiredTensor {
    private RequiredTensor() {
    }

    /**
     * The tensor {@code name} of {@code src}, which must have exactly {@code shape} (a vector may also be stored as an
     * {@code [n, 1]} matrix). The error names the folder ({@code source}), the tensor and both shapes; the expected one
     * comes from {@code config.json}, so a mismatch is as often a wrong config as a wrong checkpoint.
     */
    public static TensorData of(TensorSource src, String source, String name, long... shape) {
        if (!src.contains(name)) throw new ModelFormatException(source + ": tensor " + name + " is missing");
        TensorData t = src.tensor(name);
        long[] actual = t.shape();
        boolean vectorMatches = shape.length == 1 && actual.length == 2 && actual[1] == 1 && actual[0] == shape[0];
        if (!Arrays.equals(actual, shape) && !vectorMatches) {
            throw new ModelFormatException(source + ": tensor " + name + " has shape " + Arrays.toString(actual)
                    + ", config.json implies " + Arrays.toString(shape));
        }
        if (!t.dtype().isFloat()) {
            throw new ModelFormatException(source + ": tensor " + name + " has dtype " + t.dtype() + ", expected a float type");
        }
        return t;
    }
}
