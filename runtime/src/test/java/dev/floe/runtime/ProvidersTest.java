package dev.floe.runtime;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFamily;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.spi.RouterProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one named-provider lookup: specs, typed parameters, the duplicate rule and the plugin path. */
class ProvidersTest {
    static final ModelConfig CONFIG = new ModelConfig(ModelFamily.MIXTRAL, 100, 16, 32, 1, 2, 2, 8, 4, 2, 1, false,
            10000, 1e-5, 64, false, 1, List.of(), "float32", null);

    @Test
    void specsKeepCommaSeparatedListValuesTogether() {
        ProviderSpec s = ProviderSpec.parse("router", "sigmoid-topk:bias=0.1,0,0,-0.1,adapt=true", "x");
        assertEquals("sigmoid-topk", s.name());
        assertEquals(Map.of("bias", "0.1,0,0,-0.1", "adapt", "true"), s.params());
        assertEquals("softmax-topk", ProviderSpec.parse("router", " ", "softmax-topk").name());
        assertTrue(assertThrows(InvalidRequestException.class, () -> ProviderSpec.parse("router", "r:k=1,k=2", "x"))
                .getMessage().contains("parameter k is given twice"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> ProviderSpec.parse("scheduler", ":k=1", "x"))
                .getMessage().contains("scheduler spec ':k=1' has no name"));
        // a list value reaches the router: four experts, four biases
        assertEquals("sigmoid-topk", Routers.create("sigmoid-topk:bias=0.1,0,0,-0.1", CONFIG).name());
    }

    @Test
    void parametersAreCheckedAgainstTheirTypesInOnePlace() {
        String e = assertThrows(InvalidRequestException.class, () -> Schedulers.create("splitfuse:min-chunk=lots")).getMessage();
        assertEquals("scheduler splitfuse: parameter min-chunk=lots must be an integer", e);
        e = assertThrows(InvalidRequestException.class, () -> Schedulers.create("static:batch=4")).getMessage();
        assertTrue(e.contains("unknown parameter batch=4 (known: [max-batch])"), e);
        e = assertThrows(InvalidRequestException.class, () -> Routers.create("sigmoid-topk:adapt=maybe", CONFIG)).getMessage();
        assertEquals("router sigmoid-topk: parameter adapt=maybe must be true or false", e);
        e = assertThrows(InvalidRequestException.class, () -> Routers.create("random:seed=0xZZ", CONFIG)).getMessage();
        assertEquals("router random: parameter seed=0xZZ must be an integer", e);
    }

    @Test
    void everyKindIsFoundWithItsOrigin() {
        assertTrue(Providers.backends().stream().anyMatch(f -> f.name().equals("cpu-vector")
                && f.origin().module().equals("dev.floe.backend.cpu") && !f.origin().plugin()));
        assertTrue(Providers.routers().stream().anyMatch(f -> f.name().equals("softmax-topk")));
        assertTrue(Providers.schedulers().stream().anyMatch(f -> f.name().equals("splitfuse")));
        assertEquals(List.of("mapped", "memory"), Providers.expertStores().stream().map(Providers.Found::name).toList());
        String e = assertThrows(InvalidRequestException.class, () -> FloeEngine.expertStore("tape")).getMessage();
        assertEquals("unknown expert store 'tape' (known: [mapped, memory])", e);
    }

    @Test
    void aNameTwoProvidersShareSelectsNeither() {
        var softmax = Providers.named(Providers.routers(), "router", "softmax-topk");
        var copy = new Providers.Found<>("router", "softmax-topk", softmax.provider(),
                new Providers.Origin("my.fork", "/plugins/fork.jar", "2.0", true));
        List<Providers.Found<RouterProvider>> both = List.of(softmax, copy);
        String e = assertThrows(InvalidRequestException.class, () -> Providers.named(both, "router", "softmax-topk")).getMessage();
        assertTrue(e.startsWith("2 router providers are named 'softmax-topk'; a name must belong to one provider"), e);
        assertTrue(e.contains("from plugin my.fork 2.0 (/plugins/fork.jar)") && e.contains("dev.floe.gating"), e);
        assertTrue(Providers.duplicated(both, copy));
        assertFalse(Providers.duplicated(Providers.routers(), softmax));
    }

    @Test
    void thePluginPathAddsAProviderCompiledOutOfTree(@TempDir Path tmp) throws Exception {
        Path plugin = PluginFixture.router(tmp, "first-experts");
        String old = System.getProperty(Plugins.PROPERTY);
        System.setProperty(Plugins.PROPERTY, plugin.toString());
        try {
            var found = Providers.named(Providers.routers(), "router", "first-experts");
            assertTrue(found.origin().plugin(), found.origin().describe());
            assertEquals(plugin.toString(), found.origin().location());
            var decision = Routers.create("first-experts", CONFIG).route(new dev.floe.api.RoutingInput(0,
                    new float[][]{{0, 0, 9, 9}}, new int[]{1}, new int[]{0}, 2, true));
            assertEquals("[0, 1]", java.util.Arrays.toString(decision.experts()[0]));
            // Floe's own providers are still there, once each
            assertEquals(1, Providers.routers().stream().filter(f -> f.name().equals("softmax-topk")).count());
        } finally {
            if (old == null) System.clearProperty(Plugins.PROPERTY); else System.setProperty(Plugins.PROPERTY, old);
        }
        assertFalse(Providers.routers().stream().anyMatch(f -> f.name().equals("first-experts")));
    }

    @Test
    void aMissingPluginPathEntryIsNamed() {
        String old = System.getProperty(Plugins.PROPERTY);
        System.setProperty(Plugins.PROPERTY, "/no/such/plugins");
        try {
            String e = assertThrows(RuntimeException.class, Providers::routers).getMessage();
            assertEquals("plugin path entry /no/such/plugins does not exist (plugin path: /no/such/plugins)", e);
        } finally {
            if (old == null) System.clearProperty(Plugins.PROPERTY); else System.setProperty(Plugins.PROPERTY, old);
        }
        assertTrue(Files.exists(Path.of(System.getProperty("java.home"), "bin", "java")));
    }
}
