package dev.floe.backend.cuda;

import dev.floe.spi.Buffer;

/** Argument checks shared by the kernels' host side; messages name the argument and the offending value. */
final class Checks {
    private Checks() {
    }

    /** {@code buffer} holds at least {@code floats} floats. */
    static void fits(String argument, Buffer buffer, long floats) {
        if (floats < 0) throw new IllegalArgumentException(argument + ": negative size " + floats);
        if (buffer.floats() < floats) {
            throw new IllegalArgumentException(argument + " holds " + buffer.floats() + " floats, " + floats + " needed");
        }
    }

    static void positive(String argument, long value) {
        if (value < 1) throw new IllegalArgumentException(argument + "=" + value + " must be positive");
    }

    /** Every {@code indices[i]} lies in {@code [0, bound)}. */
    static void indices(String argument, int[] indices, long bound, String what) {
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= bound) {
                throw new IllegalArgumentException(argument + "[" + i + "]=" + indices[i] + " outside [0, " + bound + ") " + what);
            }
        }
    }

    /** The value fits a kernel's int parameter. */
    static int toInt(String argument, long value) {
        if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(argument + "=" + value + " exceeds the kernels' 32-bit index range");
        }
        return (int) value;
    }
}
