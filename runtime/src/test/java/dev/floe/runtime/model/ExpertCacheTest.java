package dev.floe.runtime.model;

import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The expert cache keeps within its capacity by evicting, prefetches, counts, and never changes a result. */
class ExpertCacheTest {
    private static Path fixture() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("fixtures/tiny-mixtral"))) p = p.getParent();
        assertNotNull(p);
        return p.resolve("fixtures/tiny-mixtral");
    }

    private static ModelOptions withCapacity(long bytes) {
        return new ModelOptions("cpu-vector", null, null, 0, Map.of("experts.cache-bytes", Long.toString(bytes)));
    }

    @Test
    void aSmallCacheEvictsAndStillMatchesTheGoldenFixture() {
        long oneExpert;
        try (FloeModel probe = FloeEngine.load(fixture(), ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            try (Session s = probe.newSession(8)) {
                s.prefill(new int[]{1, 2, 3});
            }
            ExpertCacheStats st = probe.expertCache();
            assertTrue(st.resident() > 0 && st.capacityBytes() == Long.MAX_VALUE, st.toString());
            oneExpert = st.residentBytes() / st.resident();
        }
        long capacity = 3 * oneExpert; // fewer experts than one pass routes to over its layers
        try (FloeModel model = FloeEngine.load(fixture(), withCapacity(capacity), l -> { })) {
            List<CheckResult> results = new ArrayList<>();
            GoldenChecks.run(model, GoldenFixture.load(fixture()), "tiny-mixtral", results::add);
            assertTrue(results.stream().allMatch(CheckResult::passed), results.toString());
            ExpertCacheStats st = model.expertCache();
            assertTrue(st.evicted() > 0, "evicted under a capacity of three experts: " + st);
            assertTrue(st.misses() > st.evicted() / 2, st.toString());
            assertTrue(st.prefetched() > 0, "the next layer's evicted experts are prefetched: " + st);
            // the layer being run keeps its experts, so the cache may exceed its capacity by one layer's experts at most
            assertTrue(st.residentBytes() <= capacity + (long) model.config().numExperts() * oneExpert, st.toString());
        }
    }

    @Test
    void decodingMostlyHitsPlacedExperts() {
        try (FloeModel model = FloeEngine.load(fixture(), ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
             Session s = model.newSession(32)) {
            float[] logits = s.prefillLast(new int[]{1, 5, 9, 2});
            ExpertCacheStats before = model.expertCache();
            for (int i = 0; i < 8; i++) logits = s.next(dev.floe.runtime.generate.Sampler.argmax(logits));
            ExpertCacheStats decode = model.expertCache().since(before);
            assertTrue(decode.hits() > 0, decode.toString());
            assertTrue(decode.misses() < decode.hits(), decode.toString());
            assertEquals(0, decode.evicted());
        }
    }

    @Test
    void aNonPositiveCapacityIsRefusedNamingTheOption() {
        var e = assertThrows(dev.floe.api.InvalidRequestException.class, () -> FloeEngine.load(fixture(), withCapacity(0), l -> { }));
        assertTrue(e.getMessage().contains("experts.cache-bytes=0"), e.getMessage());
    }
}
