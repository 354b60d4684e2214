package dev.floe.runtime;

import dev.floe.api.BackendStatus;
import dev.floe.api.Engine;
import dev.floe.api.Model;
import dev.floe.api.ModelOptions;

import java.nio.file.Path;
import java.util.List;

/** Placeholder engine. */
public final class FloeEngine implements Engine {
    @Override public Model load(Path modelDir, ModelOptions options) { throw new UnsupportedOperationException(); }
    @Override public List<BackendStatus> backends() { return List.of(); }
    @Override public Path builtInModel() { return Path.of("models/arctic-tiny-code"); }
}
