package dev.floe.spi;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Backend options keep the devices asked for (a copy), and a missing list means the backend's default device. */
class BackendOptionsTest {
    @Test
    void devicesAreKeptInOrderOrDefaulted() {
        List<Integer> chosen = new ArrayList<>(List.of(2, 0));
        BackendOptions o = new BackendOptions(4, Map.of("opencl.device", "1"), chosen);
        chosen.add(5);
        assertEquals(List.of(2, 0), o.devices(), "a copy of the devices, in order");
        assertEquals(2, o.device(7), "the first device chosen");
        assertEquals(List.of(), new BackendOptions(4, Map.of(), null).devices());
        assertEquals(7, new BackendOptions(4, Map.of(), null).device(7), "no device chosen: the fallback");
        assertEquals(7, BackendOptions.DEFAULTS.device(7));
        assertEquals(List.of(), new BackendOptions(1, Map.of()).devices());
        assertEquals("1", o.property("opencl.device", "0"));
        assertEquals("0", o.property("cuda.device", "0"));
    }
}
