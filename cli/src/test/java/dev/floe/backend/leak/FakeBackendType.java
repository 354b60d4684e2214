package dev.floe.backend.leak;

/** Test-only: a backend type that nothing may depend on. */
public class FakeBackendType {
}
