package dev.floe.backend.cuda;

import jcuda.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameter list of one kernel launch, in the order of the kernel's signature. Device pointers travel as 64-bit
 * addresses (a null pointer as 0), so every argument is a primitive; {@link #signature} spells the types
 * ({@code p} pointer, {@code i} int, {@code l} long long, {@code f} float) for checks and messages.
 */
final class KernelArgs {
    private final List<Object> values = new ArrayList<>();
    private final StringBuilder signature = new StringBuilder();

    KernelArgs ptr(long address) {
        values.add(new long[]{address});
        signature.append('p');
        return this;
    }

    KernelArgs i32(int v) {
        values.add(new int[]{v});
        signature.append('i');
        return this;
    }

    KernelArgs i64(long v) {
        values.add(new long[]{v});
        signature.append('l');
        return this;
    }

    KernelArgs f32(float v) {
        values.add(new float[]{v});
        signature.append('f');
        return this;
    }

    String signature() {
        return signature.toString();
    }

    /** The argument values in order: {@code Long} for pointers and long longs, {@code Integer}, {@code Float}. */
    List<Number> values() {
        List<Number> out = new ArrayList<>();
        for (Object v : values) {
            out.add(switch (v) {
                case long[] l -> l[0];
                case int[] n -> n[0];
                case float[] f -> f[0];
                default -> throw new AssertionError();
            });
        }
        return out;
    }

    int size() {
        return values.size();
    }

    /**
     * The non-pointer arguments in order, as {@link Integer}, {@link Long} or {@link Float}: what a test without a GPU
     * can compare for a known call (a swap of two same-typed arguments keeps the signature but not the values).
     */
    List<Number> scalars() {
        List<Number> out = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            switch (signature.charAt(i)) {
                case 'i' -> out.add(((int[]) values.get(i))[0]);
                case 'l' -> out.add(((long[]) values.get(i))[0]);
                case 'f' -> out.add(((float[]) values.get(i))[0]);
                default -> { } // a device address: where the runtime put the buffer, not a value a test can predict
            }
        }
        return out;
    }

    /** The {@code void**} array {@code cuLaunchKernel} expects: one pointer to each argument's value. */
    Pointer toPointer() {
        Pointer[] each = new Pointer[values.size()];
        for (int i = 0; i < each.length; i++) {
            each[i] = switch (values.get(i)) {
                case long[] l -> Pointer.to(l);
                case int[] n -> Pointer.to(n);
                case float[] f -> Pointer.to(f);
                default -> throw new AssertionError();
            };
        }
        return Pointer.to(each);
    }
}
