package dev.floe.gating;

import dev.floe.api.InvalidRequestException;
import dev.floe.spi.ParameterSpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Router parameter parsing: values, fallbacks, inclusive and exclusive bounds, and the messages of bad values. */
class ParametersTest {
    private static final List<ParameterSpec> SPECS = List.of("n", "seed", "x", "flag", "list").stream()
            .map(n -> new ParameterSpec(n, "t", "", "")).toList();

    private static Parameters of(String key, String value) {
        return new Parameters("r", Map.of(key, value), SPECS);
    }

    private static String rejected(Runnable r) {
        return assertThrows(InvalidRequestException.class, r::run).getMessage();
    }

    @Test
    void boundsAreInclusiveForIntsAndDoubles() {
        assertEquals(3, of("n", "3").intValue("n", 0, 3, 5));
        assertEquals(5, of("n", " 5 ").intValue("n", 0, 3, 5));
        assertTrue(rejected(() -> of("n", "2").intValue("n", 0, 3, 5)).contains("n=2"));
        assertTrue(rejected(() -> of("n", "6").intValue("n", 0, 3, 5)).contains("n=6"));
        assertEquals(7, of("x", "1").intValue("n", 7, 0, 1), "absent key: the fallback");
        assertEquals(0.5, of("x", "0.5").doubleValue("x", 0, 0.5, 1));
        assertEquals(1.0, of("x", "1").doubleValue("x", 0, 0.5, 1));
        assertEquals(9.0, of("n", "1").doubleValue("x", 9, 0, 1));
        assertTrue(rejected(() -> of("x", "0.49").doubleValue("x", 0, 0.5, 1)).contains("x=0.49"));
        assertTrue(rejected(() -> of("x", "1.01").doubleValue("x", 0, 0.5, 1)).contains("x=1.01"));
        assertTrue(rejected(() -> of("x", "NaN").doubleValue("x", 0, 0, 1)).contains("x=NaN"));
    }

    @Test
    void doubleAboveExcludesItsMinimumAndIncludesItsMaximum() {
        assertTrue(rejected(() -> of("x", "0").doubleAbove("x", 1, 0, 2)).contains("> 0.0"));
        assertEquals(Double.MIN_VALUE, of("x", "4.9E-324").doubleAbove("x", 1, 0, 2));
        assertEquals(2.0, of("x", "2").doubleAbove("x", 1, 0, 2));
        assertTrue(rejected(() -> of("x", "2.5").doubleAbove("x", 1, 0, 2)).contains("<= 2.0"));
        assertEquals(1.5, of("n", "1").doubleAbove("x", 1.5, 0, 2));
    }

    @Test
    void booleansAndSeeds() {
        for (String t : new String[]{"true", "YES", " 1 "}) assertTrue(of("flag", t).booleanValue("flag", false), t);
        for (String f : new String[]{"false", "No", "0"}) assertFalse(of("flag", f).booleanValue("flag", true), f);
        assertTrue(of("n", "1").booleanValue("flag", true));
        assertFalse(of("n", "1").booleanValue("flag", false));
        assertTrue(rejected(() -> of("flag", "maybe").booleanValue("flag", false)).contains("flag=maybe"));
        assertEquals(-1L, of("seed", "0xFFFFFFFFFFFFFFFF").longValue("seed", 0));
        assertEquals(255L, of("seed", "0X ff".replace(" ", "")).longValue("seed", 0));
        assertEquals(-42L, of("seed", "-42").longValue("seed", 0));
        assertEquals(17L, of("n", "1").longValue("seed", 17));
        assertTrue(rejected(() -> of("seed", "0xZZ").longValue("seed", 0)).contains("seed=0xZZ"));
    }

    @Test
    void listsRepeatOneNumberOrTakeExactlyLength() {
        assertArrayEquals(new double[]{2, 2, 2}, of("list", "2").doubleList("list", 0, 3));
        assertArrayEquals(new double[]{1, 2.5, 3}, of("list", "1, 2.5,3").doubleList("list", 0, 3));
        assertArrayEquals(new double[]{4, 4}, of("n", "1").doubleList("list", 4, 2));
        assertTrue(rejected(() -> of("list", "1,2").doubleList("list", 0, 3)).contains("got 2"));
        assertTrue(rejected(() -> of("list", "1,x,3").doubleList("list", 0, 3)).contains("bad element 'x'"));
        assertTrue(rejected(() -> of("list", "1,Infinity,3").doubleList("list", 0, 3)).contains("a finite number"));
    }

    @Test
    void unknownKeysAreNamed() {
        assertTrue(rejected(() -> new Parameters("r", Map.of("nope", "1"), SPECS)).contains("unknown parameter nope=1"));
    }
}
