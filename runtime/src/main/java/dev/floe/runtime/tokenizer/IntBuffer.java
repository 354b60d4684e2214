package dev.floe.runtime.tokenizer;

import java.util.Arrays;

/** A growable list of ints without boxing. */
final class IntBuffer {
    private int[] a;
    private int size;

    IntBuffer(int capacity) {
        a = new int[Math.max(8, capacity)];
    }

    void add(int v) {
        if (size == a.length) {
            a = Arrays.copyOf(a, size * 2);
        }
        a[size++] = v;
    }

    void addAll(int[] vs) {
        if (size + vs.length > a.length) {
            a = Arrays.copyOf(a, Math.max(size + vs.length, a.length * 2));
        }
        System.arraycopy(vs, 0, a, size, vs.length);
        size += vs.length;
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(a, size);
    }
}
