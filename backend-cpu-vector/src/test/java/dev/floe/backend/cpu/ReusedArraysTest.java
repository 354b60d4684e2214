package dev.floe.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReusedArraysTest {
    @Test
    void lendsDistinctArraysUntilTakenBackThenTheSameOnes() {
        ReusedArrays arrays = new ReusedArrays();
        float[] a = arrays.take(1000), b = arrays.take(1000), c = arrays.take(5000);
        assertTrue(a.length >= 1000 && b.length >= 1000 && c.length >= 5000);
        assertNotSame(a, b);
        arrays.takeBackAll();
        float[] a2 = arrays.take(900), b2 = arrays.take(1024);
        assertTrue(a2 == a || a2 == b, "an array of the same size class comes back");
        assertTrue((b2 == a || b2 == b) && b2 != a2);
        assertSame(c, arrays.take(4097));
        assertTrue(arrays.take(0).length >= 1);
        assertThrows(IllegalArgumentException.class, () -> arrays.take((1 << 30) + 1));
    }
}
