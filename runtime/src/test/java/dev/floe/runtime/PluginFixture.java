package dev.floe.runtime;

import dev.floe.api.Router;
import dev.floe.spi.RouterProvider;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Compiles a tiny router plugin out of tree, with the JDK's {@code javac} against Floe's api and spi jars only, into an
 * exploded module that also declares its provider in {@code META-INF/services} (so it loads on both paths).
 */
final class PluginFixture {
    private PluginFixture() {
    }

    /** An exploded module {@code test.plugin} providing a router named {@code name} that picks experts 0..k-1. */
    static Path router(Path tmp, String name) throws IOException, InterruptedException {
        Path src = tmp.resolve("src"), out = tmp.resolve("plugin");
        Files.createDirectories(src.resolve("test/plugin"));
        Files.writeString(src.resolve("module-info.java"), """
                module test.plugin {
                    requires dev.floe.spi;
                    provides dev.floe.spi.RouterProvider with test.plugin.FirstExperts;
                }""");
        Files.writeString(src.resolve("test/plugin/FirstExperts.java"), """
                package test.plugin;
                import dev.floe.api.*;
                import dev.floe.spi.*;
                import java.util.*;
                public final class FirstExperts implements RouterProvider {
                    public String name() { return "%s"; }
                    public String description() { return "experts 0..k-1, equal weights"; }
                    public List<ParameterSpec> parameters() { return List.of(); }
                    public Router create(ModelConfig config, Map<String, String> params) {
                        new Parameters("router " + name(), params, parameters());
                        return new Router() {
                            public String name() { return FirstExperts.this.name(); }
                            public RoutingDecision route(RoutingInput in) {
                                int[][] e = new int[in.tokens()][in.topK()];
                                float[][] w = new float[in.tokens()][in.topK()];
                                for (int t = 0; t < e.length; t++) for (int j = 0; j < in.topK(); j++) { e[t][j] = j; w[t][j] = 1f / in.topK(); }
                                return new RoutingDecision(e, w);
                            }
                        };
                    }
                }""".formatted(name));
        String modulePath = String.join(java.io.File.pathSeparator, location(Router.class), location(RouterProvider.class));
        Process javac = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "javac").toString(),
                "--module-path", modulePath, "-d", out.toString(),
                src.resolve("module-info.java").toString(), src.resolve("test/plugin/FirstExperts.java").toString())
                .redirectErrorStream(true).start();
        String log = new String(javac.getInputStream().readAllBytes());
        if (javac.waitFor() != 0) throw new IllegalStateException("javac failed: " + log);
        Files.createDirectories(out.resolve("META-INF/services"));
        Files.writeString(out.resolve("META-INF/services/dev.floe.spi.RouterProvider"), "test.plugin.FirstExperts\n");
        return out;
    }

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

}
