package dev.floe.runtime.serving;

import dev.floe.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The serving limits: each at least 1, the token budget at most the rows one forward pass takes. */
class ServingConfigTest {
    private static String rejected(int queue, int batch, int budget) {
        return assertThrows(InvalidRequestException.class, () -> new ServingConfig(queue, batch, budget)).getMessage();
    }

    @Test
    void limitsAreInRange() {
        ServingConfig smallest = new ServingConfig(1, 1, 1);
        assertEquals(1, smallest.maxQueue());
        assertEquals(1, smallest.maxBatch());
        assertEquals(1, smallest.tokenBudget());
        assertEquals(ServingConfig.MAX_ROWS, new ServingConfig(1, 1, ServingConfig.MAX_ROWS).tokenBudget());
        assertEquals("max queue must be at least 1, got 0", rejected(0, 1, 1));
        assertEquals("max batch must be at least 1, got 0", rejected(1, 0, 1));
        assertEquals("token budget must be in [1, " + ServingConfig.MAX_ROWS + "], got 0", rejected(1, 1, 0));
        assertEquals("token budget must be in [1, " + ServingConfig.MAX_ROWS + "], got " + (ServingConfig.MAX_ROWS + 1),
                rejected(1, 1, ServingConfig.MAX_ROWS + 1));
        assertTrue(rejected(-5, 1, 1).contains("-5"));
    }

    @Test
    void prefixCachingIsOnUnlessTurnedOff() {
        assertTrue(new ServingConfig(2, 3, 4).prefixCaching());
        assertTrue(ServingConfig.DEFAULTS.prefixCaching());
        ServingConfig off = ServingConfig.DEFAULTS.withPrefixCaching(false);
        assertFalse(off.prefixCaching());
        assertEquals(new ServingConfig(64, 16, 256, false), off, "only the flag changes");
        assertEquals(ServingConfig.DEFAULTS, off.withPrefixCaching(true));
    }
}
