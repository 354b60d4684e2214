package dev.floe.backend.cpu;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;

import java.util.Set;

/** Placeholder: the cpu-vector backend is being written. */
public final class CpuVectorProvider implements BackendProvider {
    @Override public String name() { return "cpu-vector"; }
    @Override public String version() { return "0.1.0"; }
    @Override public int rank() { return 10; }
    @Override public Probe probe() { return new Probe.Unavailable("not yet implemented"); }
    @Override public Set<Capability> capabilities() { return Set.of(); }
    @Override public Backend open(BackendOptions options) { throw new UnsupportedOperationException(); }
}
