package dev.floe.api;

import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Entry point: {@code try (Model m = Floe.load(dir)) { m.generate(GenerationRequest.of("def f(", 32)); }}.
 */
public final class Floe {
    private Floe() {
    }

    /** Loads a model folder with default options. */
    public static Model load(Path modelDir) {
        return load(modelDir, ModelOptions.DEFAULTS);
    }

    /** Loads a model folder. */
    public static Model load(Path modelDir, ModelOptions options) {
        return engine().load(modelDir, options);
    }

    /** Loads the built-in demo model (arctic-tiny-code). */
    public static Model loadBuiltIn(ModelOptions options) {
        return engine().load(engine().builtInModel(), options);
    }

    /** Every backend provider with its probe result. */
    public static List<BackendStatus> backends() {
        return engine().backends();
    }

    /** The engine found on the module path or the class path. */
    public static Engine engine() {
        return Holder.ENGINE;
    }

    private static final class Holder {
        // the context loader finds META-INF/services on the class path, the module layers find provides
        static final Engine ENGINE = ServiceLoader.load(Engine.class).findFirst()
                .or(() -> ServiceLoader.load(Engine.class, Floe.class.getClassLoader()).findFirst()).orElseThrow(() ->
                        new FloeException("no dev.floe.api.Engine on the module path or the class path: add the "
                                + "dev.floe:floe-runtime artifact (module dev.floe.runtime)"));
    }
}
