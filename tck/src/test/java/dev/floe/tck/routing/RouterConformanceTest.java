package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class RouterConformanceTest {
    static final Set<String> SHIPPED = Set.of("softmax-topk", "sigmoid-topk", "capacity-topk", "expert-choice", "hash", "random");

    @TestFactory
    Stream<DynamicTest> everyShippedRouterMatchesItsOracle() {
        List<RouterConformance.Result> results = new RouterConformance().run();
        assertEquals(SHIPPED, results.stream().map(RouterConformance.Result::router).collect(Collectors.toSet()),
                "routers checked (is floe-gating on the module path?)");
        int expected = RouterOracles.all().stream().mapToInt(o -> o.parameterSets().size()).sum();
        assertEquals(expected, results.size());
        return results.stream().map(r -> DynamicTest.dynamicTest(r.router() + " " + r.params(),
                () -> assertTrue(r.passed(), r.message())));
    }

    @Test
    void oraclesCoverAllSixWithDistinctNames() {
        assertEquals(SHIPPED, RouterOracles.all().stream().map(RouterOracle::name).collect(Collectors.toSet()));
    }

    @Test
    void aWrongRouterIsCaught() {
        // softmax-topk that forgets to renormalise: must fail on the renormalising shapes
        RouterProvider broken = new FakeProvider("softmax-topk", input -> {
            float[][] w = new float[input.tokens()][];
            int[][] e = new int[input.tokens()][];
            for (int t = 0; t < e.length; t++) {
                float[] row = input.logits()[t];
                int best = 0;
                for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
                e[t] = new int[]{best};
                w[t] = new float[]{1f};
            }
            return new RoutingDecision(e, w);
        });
        var results = new RouterConformance().run(List.of(broken), RouterOracles.all());
        assertFalse(results.isEmpty());
        assertTrue(results.stream().noneMatch(RouterConformance.Result::passed));
        assertTrue(results.getFirst().message().contains("token"), results.getFirst().message());
    }

    @Test
    void aRouterThatThrowsIsReportedNotPropagated() {
        RouterProvider broken = new FakeProvider("hash", input -> {
            throw new IllegalStateException("boom");
        });
        var results = new RouterConformance().run(List.of(broken), RouterOracles.all());
        assertTrue(results.stream().allMatch(r -> !r.passed() && r.message().contains("boom")));
    }

    @Test
    void weightToleranceIsRelative() {
        var a = new RoutingDecision(new int[][]{{1}}, new float[][]{{0.5f}});
        var close = new RoutingDecision(new int[][]{{1}}, new float[][]{{0.5f * (1 + 4e-7f)}});
        var far = new RoutingDecision(new int[][]{{1}}, new float[][]{{0.5f * (1 + 5e-6f)}});
        assertNull(RouterConformance.compare(a, close));
        assertNotNull(RouterConformance.compare(a, far));
        assertNotNull(RouterConformance.compare(a, new RoutingDecision(new int[][]{{2}}, new float[][]{{0.5f}})));
    }

    private record FakeProvider(String name, java.util.function.Function<RoutingInput, RoutingDecision> body)
            implements RouterProvider {
        @Override
        public String description() {
            return "test double";
        }

        @Override
        public List<ParameterSpec> parameters() {
            return List.of();
        }

        @Override
        public Router create(ModelConfig config, Map<String, String> params) {
            return new Router() {
                @Override
                public String name() {
                    return FakeProvider.this.name;
                }

                @Override
                public RoutingDecision route(RoutingInput input) {
                    return body.apply(input);
                }
            };
        }
    }
}
