package dev.floe.gating;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.Router;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class ProvidersTest {
    static final List<RouterProvider> ALL = List.of(new SoftmaxTopKProvider(), new SigmoidTopKProvider(),
            new CapacityTopKProvider(), new ExpertChoiceProvider(), new HashRouterProvider(), new RandomRouterProvider());

    static RouterProvider named(String name) {
        return ALL.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void moduleProvidesAllSix() {
        var descriptor = RouterProvider.class.getModule().isNamed() ? SoftmaxTopK.class.getModule().getDescriptor() : null;
        org.junit.jupiter.api.Assumptions.assumeTrue(descriptor != null, "tests run on the class path, no module descriptor");
        Set<String> declared = descriptor.provides().stream()
                .filter(p -> p.service().equals(RouterProvider.class.getName()))
                .flatMap(p -> p.providers().stream()).collect(Collectors.toSet());
        assertEquals(ALL.stream().map(p -> p.getClass().getName()).collect(Collectors.toSet()), declared);
    }

    @Test
    void namesAreUniqueAndRoutersReportThem() {
        assertEquals(6, ALL.stream().map(RouterProvider::name).distinct().count());
        for (RouterProvider p : ALL) {
            Router r = p.create(config(8, 2), Map.of());
            assertEquals(p.name(), r.name());
            assertFalse(p.description().isBlank());
            // defaults route a batch with the model's k
            var d = r.route(input(2, gaussian(1, 16, 8)));
            assertEquals(16, d.tokens());
        }
    }

    @Test
    void emptyBatchesGiveEmptyDecisions() {
        for (RouterProvider p : ALL) {
            assertEquals(0, p.create(config(8, 2), Map.of()).route(input(2)).tokens(), p.name());
        }
    }

    @Test
    void everyDeclaredParameterIsAccepted() {
        for (RouterProvider p : ALL) {
            for (ParameterSpec spec : p.parameters()) {
                String value = switch (spec.type()) {
                    case "int" -> "1";
                    case "long" -> "9";
                    case "double" -> "0.5";
                    case "boolean" -> "true";
                    default -> "0";
                };
                assertNotNull(p.create(config(8, 2), Map.of(spec.name(), value)), p.name() + " " + spec);
            }
        }
    }

    @Test
    void unknownParameterNamesRouterParameterAndValue() {
        for (RouterProvider p : ALL) {
            var e = assertThrows(InvalidRequestException.class, () -> p.create(config(8, 2), Map.of("colour", "blue")));
            assertTrue(e.getMessage().contains(p.name()) && e.getMessage().contains("colour=blue"), e.getMessage());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "softmax-topk, k, 0", "softmax-topk, k, 9", "softmax-topk, k, two",
            "sigmoid-topk, k, 9", "sigmoid-topk, gamma, -0.1", "sigmoid-topk, gamma, NaN", "sigmoid-topk, adapt, maybe",
            "sigmoid-topk, bias, 'Infinity'",
            "capacity-topk, capacity_factor, 0", "capacity-topk, capacity_factor, -1", "capacity-topk, min_capacity, -1",
            "capacity-topk, k, 0",
            "expert-choice, capacity_factor, 0", "expert-choice, k, 10",
            "hash, k, 0", "hash, seed, 1.5", "random, k, 9", "random, seed, x"})
    void badValuesAreRejectedWithTheirName(String router, String key, String value) {
        var e = assertThrows(InvalidRequestException.class, () -> named(router).create(config(8, 2), Map.of(key, value)));
        assertTrue(e.getMessage().contains("router " + router) && e.getMessage().contains(key + "=" + value), e.getMessage());
    }

    @Test
    void kDefaultsToTheModelAndCanBeOverridden() {
        for (String name : List.of("softmax-topk", "sigmoid-topk", "capacity-topk", "hash", "random")) {
            var d = named(name).create(config(8, 3), Map.of()).route(input(3, gaussian(2, 1, 8)));
            assertEquals(3, d.experts()[0].length, name);
            var d1 = named(name).create(config(8, 3), Map.of("k", "1")).route(input(3, gaussian(2, 1, 8)));
            assertEquals(1, d1.experts()[0].length, name);
        }
    }

    @Test
    void seedsAreReadAsLongsIncludingHex() {
        var a = named("random").create(config(8, 2), Map.of("seed", "0x10")).route(input(2, new float[4][8]));
        var b = named("random").create(config(8, 2), Map.of("seed", "16")).route(input(2, new float[4][8]));
        assertArrayEquals(a.experts(), b.experts());
    }
}
