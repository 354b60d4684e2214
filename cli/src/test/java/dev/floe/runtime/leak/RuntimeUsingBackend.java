package dev.floe.runtime.leak;

/** Test-only: runtime code that names a backend class and a router class, which the rules must reject. */
public class RuntimeUsingBackend {
    dev.floe.backend.leak.FakeBackendType backend;
    dev.floe.gating.SoftmaxTopK router;
}
