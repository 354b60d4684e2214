package dev.floe.runtime.golden;

import dev.floe.api.ForwardObserver;
import dev.floe.api.Model;
import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The golden checks fail when the model under test hides part of what the fixture checks. */
class GoldenChecksTest {
    private static final Path DIR = Path.of(System.getProperty("floe.root", "."), "fixtures", "tiny-mixtral");

    @Test
    void everyLayerOfTheFixtureIsComparedWhenTheModelReportsThemAll() {
        GoldenFixture golden = GoldenFixture.load(DIR);
        try (FloeModel model = load()) {
            List<CheckResult> results = GoldenChecks.run(model, golden, "m", r -> { });
            long hidden = results.stream().filter(r -> r.name().endsWith(".hidden")).count();
            assertEquals(golden.layers().size(), hidden, "one hidden-state check per fixture layer");
            assertTrue(results.stream().allMatch(CheckResult::passed), results.toString());
        }
    }

    @Test
    void aLayerTheModelDoesNotReportFails() {
        GoldenFixture golden = GoldenFixture.load(DIR);
        int last = golden.layers().getLast().index();
        try (FloeModel model = load()) {
            List<CheckResult> results = GoldenChecks.run(hidingLayers(model, l -> l == last), golden, "m", r -> { });
            CheckResult missing = results.stream().filter(r -> r.name().equals("m/prompt.0.layer." + last + ".hidden"))
                    .findFirst().orElseThrow(() -> new AssertionError("no check of layer " + last + ": " + results));
            assertFalse(missing.passed(), missing.line());
            assertTrue(missing.message().contains("no output for layer " + last), missing.line());
        }
    }

    @Test
    void layersAreMatchedByIndexNotByArrivalOrder() {
        GoldenFixture golden = GoldenFixture.load(DIR);
        int first = golden.layers().getFirst().index();
        try (FloeModel model = load()) {
            // without layer 0 a list would compare layer 1's output with the fixture's layer 0, and so on
            List<CheckResult> results = GoldenChecks.run(hidingLayers(model, l -> l == first), golden, "m", r -> { });
            List<String> failed = results.stream().filter(r -> !r.passed()).map(CheckResult::name).toList();
            assertEquals(List.of("m/prompt.0.layer." + first + ".hidden"), failed, results.toString());
            for (GoldenFixture.Layer layer : golden.layers().subList(1, golden.layers().size())) {
                String name = "m/prompt.0.layer." + layer.index() + ".hidden";
                assertTrue(results.stream().anyMatch(r -> r.name().equals(name) && r.passed()), name + " compared: " + results);
            }
        }
    }

    private static FloeModel load() {
        return FloeEngine.load(DIR, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
    }

    /** The model, except that its sessions never report the outputs of the layers {@code hidden} selects. */
    private static Model hidingLayers(Model model, IntPredicate hidden) {
        return proxy(Model.class, model, (method, args) -> method.getName().equals("newSession") && args != null
                ? hidingLayers((Session) method.invoke(model, args), hidden) : null);
    }

    private static Session hidingLayers(Session session, IntPredicate hidden) {
        return proxy(Session.class, session, (method, args) -> {
            if (!method.getName().equals("observer") || args[0] == null) return null;
            ForwardObserver o = (ForwardObserver) args[0];
            session.observer(new ForwardObserver() {
                @Override
                public void onRouting(int layer, dev.floe.api.RoutingInput input, dev.floe.api.RoutingDecision decision) {
                    o.onRouting(layer, input, decision);
                }

                @Override
                public void onLayerOutput(int layer, float[] out, int rows) {
                    if (!hidden.test(layer)) o.onLayerOutput(layer, out, rows);
                }

                @Override
                public boolean wantsLayerOutputs() {
                    return o.wantsLayerOutputs();
                }
            });
            return Void.TYPE;
        });
    }

    /** Calls go to {@code target} unless {@code override} returns something other than null. */
    interface Intercept {
        Object apply(java.lang.reflect.Method method, Object[] args) throws Exception;
    }

    private static <T> T proxy(Class<T> type, T target, Intercept override) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[]{type}, (p, method, args) -> {
            Object replaced = override.apply(method, args);
            if (replaced == Void.TYPE) return null;
            if (replaced != null) return replaced;
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }
}
